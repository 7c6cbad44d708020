using Docker.DotNet.Models;
using Dapp.Transfer;

namespace Dapp.Storage;

/// <summary>The local engine's stages as the builder sees them (<see cref="LocalStagesStorage"/>).</summary>
internal interface ILocalStages
{
    string Project { get; }

    /// <summary>The local name of a stage: <c>dimgstage-&lt;project&gt;:&lt;signature&gt;</c>.</summary>
    string ImageName(string signature);

    Task<bool> ExistsAsync(string signature, CancellationToken ct);

    /// <summary>The stage's image (its labels: the git commits it was built at); null when the engine lacks it.</summary>
    Task<ImageInspectResponse?> InspectAsync(string signature, CancellationToken ct);

    /// <summary>Which of the signatures the engine has.</summary>
    Task<IReadOnlySet<string>> LookUpAsync(IReadOnlyCollection<string> signatures, CancellationToken ct);
}
