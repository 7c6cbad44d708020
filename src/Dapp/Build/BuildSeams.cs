using Dapp.Config;
using Dapp.Stages;

namespace Dapp.Build;

/// <summary>Builds one stage image on the image before it (<see cref="StageImageBuilder"/>).</summary>
internal interface IStageBuilder
{
    /// <param name="beforeCommit">Awaited before the commit: it may still call the build off (by throwing), and no image is made.</param>
    Task BuildAsync(Conveyor conveyor, ConveyorStage stage, string previousImage, CancellationToken ct, Func<CancellationToken, Task>? beforeCommit = null);

    /// <summary>Before any stage of the build is built: the build's ansible tasks, checked against this host's ansible.</summary>
    Task CheckAnsibleTasksAsync(IReadOnlyList<AnsibleTask> tasks, CancellationToken ct);

    /// <summary>What the builds left running (the removal of committed stages' containers), done: awaited before the build ends.</summary>
    Task SettledAsync() => Task.CompletedTask;
}

/// <summary>Builds nothing: for commands that only say what a build would do (dapp dimg plan).</summary>
internal sealed class NoStageBuilder : IStageBuilder
{
    public static NoStageBuilder Instance { get; } = new();

    public Task BuildAsync(Conveyor conveyor, ConveyorStage stage, string previousImage, CancellationToken ct, Func<CancellationToken, Task>? beforeCommit = null) =>
        throw new InvalidOperationException($"{conveyor.Image.DisplayName}: stage {stage.Name.DappName()} cannot be built by a plan");

    public Task CheckAnsibleTasksAsync(IReadOnlyList<AnsibleTask> tasks, CancellationToken ct) => Task.CompletedTask;
}

/// <summary>Locks every dapp process of a host shares (<see cref="HostLock"/>): one per stage being built.</summary>
internal interface IHostLocks
{
    /// <summary>The lock, once no other process of the host holds it; <paramref name="onWaiting"/> is told once if it has to wait.</summary>
    Task<IDisposable> AcquireAsync(string name, TimeSpan timeout, Action onWaiting, CancellationToken ct);
}

/// <summary>The host's file locks.</summary>
internal sealed class FileHostLocks : IHostLocks
{
    public static FileHostLocks Instance { get; } = new();

    public async Task<IDisposable> AcquireAsync(string name, TimeSpan timeout, Action onWaiting, CancellationToken ct) =>
        await HostLock.AcquireAsync(name, timeout, onWaiting, ct);
}
