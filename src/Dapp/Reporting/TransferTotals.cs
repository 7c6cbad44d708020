namespace Dapp.Reporting;

/// <summary>
/// The bytes of a set of transfers, per image, for the summary line ("pulled 3 stage(s), 120.5 MiB, …"), passing each
/// update on to the display.
/// </summary>
public sealed class TransferTotals(ITransferDisplay display)
{
    private readonly Dictionary<string, long> _bytes = new();
    private readonly Lock _lock = new();

    public void Update(string image, long done, long total)
    {
        display.Update(image, done, total);
        lock (_lock) _bytes[image] = done;
    }

    public long Bytes
    {
        get
        {
            lock (_lock) return _bytes.Values.Sum();
        }
    }

    /// <summary>The bytes of one image.</summary>
    public long BytesOf(string image)
    {
        lock (_lock) return _bytes.GetValueOrDefault(image);
    }

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.00} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
