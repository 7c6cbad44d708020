using Microsoft.Extensions.Time.Testing;

namespace Dapp.Tests.Unit.Simulation;

/// <summary>
/// Runs simulated hosts on one thread, in fake time: each host's continuations go through its own
/// <see cref="HostContext"/> into one queue, run in order; when the queue is empty, time advances by a step (timers
/// fire, their continuations queue). Nothing else runs, so a seed gives one interleaving, every time. A host that
/// dies has its queued and future work dropped, as a killed process's.
/// </summary>
public sealed class SimulatedTime
{
    private readonly Queue<(HostContext Host, SendOrPostCallback Callback, object? State)> _queue = new();

    public SimulatedClock Clock { get; } = new();

    public TimeSpan Elapsed => Clock.GetUtcNow() - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public HostContext NewHost(string name) => new(this, name);

    internal void Enqueue(HostContext host, SendOrPostCallback callback, object? state) => _queue.Enqueue((host, callback, state));

    /// <summary>
    /// Runs until <paramref name="done"/> holds, advancing time whenever nothing is left to run: to the next timer, by
    /// at least <paramref name="step"/>.
    /// </summary>
    public void RunUntil(Func<bool> done, TimeSpan step, TimeSpan limit)
    {
        var outer = SynchronizationContext.Current;
        try
        {
            while (true)
            {
                while (_queue.TryDequeue(out var work))
                {
                    if (work.Host.IsDead) continue;
                    SynchronizationContext.SetSynchronizationContext(work.Host);
                    work.Callback(work.State);
                }
                SynchronizationContext.SetSynchronizationContext(null);
                if (done()) return;
                if (Elapsed > limit) throw new TimeoutException($"the simulation did not end within {limit} of simulated time");
                Clock.AdvanceToNextTimer(step);
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(outer);
        }
    }
}

/// <summary>The synchronization context of one simulated host: its work queues in the simulation's order.</summary>
public sealed class HostContext(SimulatedTime time, string name) : SynchronizationContext
{
    public string Name => name;
    public bool IsDead { get; private set; }

    /// <summary>The host's process is killed: nothing of it runs any more.</summary>
    public void Kill() => IsDead = true;

    public override void Post(SendOrPostCallback d, object? state)
    {
        if (!IsDead) time.Enqueue(this, d, state);
    }

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("simulated hosts never block");

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>Starts work on this host (its awaits come back to it).</summary>
    public Task<T> Start<T>(Func<Task<T>> work)
    {
        var result = new TaskCompletionSource<T>();
        Post(async _ =>
        {
            try
            {
                result.SetResult(await work());
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        }, null);
        return result.Task;
    }
}

/// <summary>Fake time that knows when its next timer is due, so that a simulation skips the time in between.</summary>
public sealed class SimulatedClock() : FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
{
    private readonly SortedSet<(DateTimeOffset Due, long Order)> _due = new();
    private long _timers;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime != Timeout.InfiniteTimeSpan) _due.Add((GetUtcNow() + dueTime, ++_timers));
        return base.CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>Advances to the earliest timer still ahead (one that was cancelled meanwhile only costs a step), by at least <paramref name="step"/>.</summary>
    public void AdvanceToNextTimer(TimeSpan step)
    {
        var now = GetUtcNow();
        while (_due.Count > 0 && _due.Min.Due <= now) _due.Remove(_due.Min);
        var next = _due.Count > 0 ? _due.Min.Due - now : step;
        Advance(next < step ? step : next);
    }
}
