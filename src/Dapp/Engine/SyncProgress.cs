namespace Dapp.Engine;

/// <summary>Reports on the caller's thread: <see cref="Progress{T}"/> posts to the thread pool and can report after the await returns.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
