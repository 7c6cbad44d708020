using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Dapp.Stages;

namespace Dapp.Build;

/// <summary>
/// The chains of one build (a dimg's or an artifact's stages, <see cref="Conveyor"/>) running at once (--jobs): each
/// chain is started once, whoever asks first, and holds one of the build's slots while it works; it gives the slot
/// back while it waits for something of this build (a chain it depends on, a stage another chain is building), so
/// that what it waits for can run. The first chain that fails stops the others from starting anything new: each
/// finishes the stage it is in; the build then fails with that chain's error.
/// </summary>
internal sealed class ChainJobs(int jobs)
{
    private readonly SemaphoreSlim _slots = new(jobs, jobs);
    private readonly Lock _lock = new();
    private readonly Dictionary<Conveyor, Task> _chains = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _stageGates = new();
    private readonly List<Exception> _failures = [];
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Cancelled when a chain fails: waits for others (a host lock, a claim) end then, builds in progress do not.</summary>
    public CancellationToken StopToken => _stop.Token;

    /// <summary>A wait for something outside the build (another process's lock), ended when the build stops.</summary>
    public async Task<T> UnlessStoppedAsync<T>(Func<CancellationToken, Task<T>> wait, CancellationToken ct)
    {
        var result = default(T)!;
        await UnlessStoppedAsync(async token => result = await wait(token), _stop.Token, ct);
        return result;
    }

    /// <summary>A wait ended by <paramref name="stop"/> (<see cref="StopToken"/>) as by <paramref name="ct"/>; ended by the stop, it throws <see cref="ChainStoppedException"/>.</summary>
    public static async Task UnlessStoppedAsync(Func<CancellationToken, Task> wait, CancellationToken stop, CancellationToken ct)
    {
        using var waitOrStop = CancellationTokenSource.CreateLinkedTokenSource(ct, stop);
        try
        {
            await wait(waitOrStop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new ChainStoppedException();
        }
    }

    /// <summary>Whether chains build one after another (--jobs 1): a chain's dependencies are then started only when a stage needs them, as dapp did.</summary>
    public bool OneAtATime => jobs == 1;

    /// <summary>A chain has failed: the others start nothing new.</summary>
    public bool Stopping => _stop.IsCancellationRequested;

    public bool Started(Conveyor conveyor)
    {
        lock (_lock) return _chains.ContainsKey(conveyor);
    }

    /// <summary>The chain's run, started now unless it was started before (then its first run, whatever this caller passes).</summary>
    public Task Start(Conveyor conveyor, Func<ChainSlot, CancellationToken, Task> run, CancellationToken ct)
    {
        lock (_lock)
        {
            if (_chains.TryGetValue(conveyor, out var started)) return started;
            // The slot is asked for now: chains get slots in the order they were started (SemaphoreSlim serves its asynchronous waiters in the order they came).
            var task = RunAsync(ChainSlot.AcquireAsync(_slots, ct), run, ct);
            _chains[conveyor] = task;
            return task;
        }
    }

    /// <summary>Waits for every chain started (and those they start); throws the first failure, the others told to <paramref name="alsoFailed"/>.</summary>
    public async Task WaitAllAsync(Action<string> alsoFailed, CancellationToken ct)
    {
        while (true)
        {
            Task[] running;
            lock (_lock) running = _chains.Values.ToArray();
            try
            {
                await Task.WhenAll(running);
            }
            catch (Exception)
            {
                // The failures are kept in order by RunAsync.
            }
            lock (_lock)
                if (_chains.Count == running.Length) break;
        }
        ct.ThrowIfCancellationRequested();
        Exception[] failures;
        lock (_lock) failures = _failures.ToArray();
        if (failures.Length == 0) return;
        foreach (var other in failures.Skip(1)) alsoFailed($"another chain failed too: {other.Message}");
        ExceptionDispatchInfo.Throw(failures[0]);
    }

    /// <summary>
    /// The right to build a stage in this process: a chain reaching a stage another chain of this build is building
    /// waits for it (its slot given back meanwhile), then finds the stage built.
    /// </summary>
    public async Task<IDisposable> StageGateAsync(string signature, ChainSlot slot, CancellationToken ct)
    {
        var gate = _stageGates.GetOrAdd(signature, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(0, ct)) await slot.WhileWaitingAsync(() => gate.WaitAsync(ct), ct);
        return new Releaser(gate);
    }

    private async Task RunAsync(Task<ChainSlot> slotTaken, Func<ChainSlot, CancellationToken, Task> run, CancellationToken ct)
    {
        // Started under the lock: nothing of the chain runs there (it goes on in the caller's context, or the pool's).
        await Task.Yield();
        using var slot = await slotTaken;
        try
        {
            if (Stopping) throw new ChainStoppedException();
            await run(slot, ct);
        }
        catch (Exception e) when (e is not ChainStoppedException && !ct.IsCancellationRequested)
        {
            // A chain that waited for a failed one rethrows that one's error: it is told once.
            lock (_lock)
                if (!_failures.Contains(e)) _failures.Add(e);
            await _stop.CancelAsync();
            throw;
        }
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}

/// <summary>A chain's slot of its build (<see cref="ChainJobs"/>): held while the chain works, given back while it waits.</summary>
internal sealed class ChainSlot : IDisposable
{
    private readonly SemaphoreSlim? _slots;
    private bool _held;

    private ChainSlot(SemaphoreSlim? slots, bool held)
    {
        _slots = slots;
        _held = held;
    }

    /// <summary>No slot: what runs after the chains (the reconciliation of distributed mode) waits for nothing of theirs.</summary>
    public static ChainSlot None { get; } = new(null, held: false);

    public static async Task<ChainSlot> AcquireAsync(SemaphoreSlim slots, CancellationToken ct)
    {
        await slots.WaitAsync(ct);
        return new ChainSlot(slots, held: true);
    }

    /// <summary>Waits with the slot given back, and takes one again before going on.</summary>
    public async Task WhileWaitingAsync(Func<Task> wait, CancellationToken ct)
    {
        if (_slots is null || !_held)
        {
            await wait();
            return;
        }
        _held = false;
        _slots.Release();
        try
        {
            await wait();
        }
        finally
        {
            await _slots.WaitAsync(ct);
            _held = true;
        }
    }

    public void Dispose()
    {
        if (!_held) return;
        _held = false;
        _slots!.Release();
    }
}

/// <summary>A chain that started nothing new because another chain of the build failed (that failure is the build's error).</summary>
internal sealed class ChainStoppedException() : DappException("stopped: another chain of the build failed");
