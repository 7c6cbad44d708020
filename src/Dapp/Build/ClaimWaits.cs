using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;

namespace Dapp.Build;

/// <summary>
/// Distributed mode's claims as a build uses them (docs/distributed.md): before a missing stage is built, this host
/// takes the stage's claim, or waits for the host that holds it (<c>[WAITING]</c>) until its stage is published or its
/// claim lapses.
/// </summary>
internal sealed class ClaimWaits(IStageClaims claims, IReporter reporter, TimeSpan lockTimeout, TimeProvider time)
{
    /// <summary>
    /// Before building a missing stage in distributed mode: if another host has published it since the walk, it is
    /// used; if another host's claim on it is live, this one waits (<c>[WAITING]</c>), asking with growing pauses
    /// until the stage appears or the claim lapses; otherwise this one claims it. Bounded by --lock-timeout.
    /// </summary>
    /// <param name="stop">Ends the wait between two asks (the build stopped: another chain failed); a claim write is never cut short.</param>
    public async Task<(bool Published, IClaimHold? Claim)> ClaimOrWaitAsync(Conveyor conveyor, ConveyorStage stage, bool stoppedForAnother,
        CancellationToken ct, CancellationToken stop = default)
    {
        var waited = time.GetTimestamp();
        var pause = TimeSpan.FromMilliseconds(200);
        string? waitingFor = null;
        while (true)
        {
            if (await claims.IsPublishedAsync(stage.Signature, ct)) return (true, null);
            var attempt = await claims.TryTakeAsync(stage.Signature, ct);
            if (attempt.Held) return (false, claims.IsOff ? null : claims.Hold(stage.Signature));
            var holder = attempt.Other!;
            if (holder.Holder != waitingFor)
            {
                waitingFor = holder.Holder;
                reporter.Stage(new StageEvent(conveyor.Image.DisplayName, stage.Name.DappName(), stage.Signature, StageState.Waiting,
                    $"for {holder.Holder}, whose claim lasts until {holder.Expires.UtcDateTime:HH:mm:ss} UTC unless renewed"
                    + (stoppedForAnother ? " (it claimed the stage at the same moment as this host, which stopped its build)" : "")));
            }
            if (time.GetElapsedTime(waited) >= lockTimeout)
                throw new DappException($"{conveyor.Image.DisplayName}: timed out after {lockTimeout.TotalSeconds:0} s waiting for {holder.Holder} to publish stage {stage.Name.DappName()} (see --lock-timeout)");
            await ChainJobs.UnlessStoppedAsync(token => Task.Delay(pause, time, token), stop, ct);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(3).Ticks));
        }
    }
}
