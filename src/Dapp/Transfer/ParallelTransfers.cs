namespace Dapp.Transfer;

/// <summary>
/// Runs transfers a few at a time. Every transfer is finished or abandoned before the failures, each naming its
/// image, are reported together: one broken stage does not leave the others half done.
/// </summary>
internal static class ParallelTransfers
{
    /// <param name="after">What an item waits for before it takes a slot (a transfer that must end first), so that waiting holds no slot.</param>
    public static async Task RunAsync<T>(IReadOnlyList<T> items, int parallelism, Func<T, CancellationToken, Task> transfer,
        Func<T, string> describe, string verb, CancellationToken ct, Func<T, Task>? after = null)
    {
        using var limit = new SemaphoreSlim(Math.Max(1, parallelism));
        var failures = new List<string>();
        await Task.WhenAll(items.Select(async item =>
        {
            if (after is not null) await after(item).WaitAsync(ct);
            await limit.WaitAsync(ct);
            try
            {
                await transfer(item, ct);
            }
            catch (DappException e)
            {
                lock (failures) failures.Add($"{describe(item)}: {e.Message}");
            }
            finally
            {
                limit.Release();
            }
        }));
        ct.ThrowIfCancellationRequested();
        if (failures.Count > 0)
            throw new DappException($"{failures.Count} of {items.Count} {verb} failed:\n  " + string.Join("\n  ", failures));
    }
}
