namespace Dapp.Reporting;

/// <summary>The bytes of a set of transfers, per image, for the summary line: "pulled 3 image(s), 120.5 MB in 2.31 s".</summary>
public sealed class TransferTotals
{
    private readonly Dictionary<string, long> _bytes = new();
    private readonly Lock _lock = new();

    public void Set(string image, long bytes)
    {
        lock (_lock) _bytes[image] = bytes;
    }

    public long Bytes
    {
        get
        {
            lock (_lock) return _bytes.Values.Sum();
        }
    }

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.00} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
