using Dapp.Config;

namespace Dapp.Stages;

/// <summary>before_install_artifact, after_install_artifact, before_setup_artifact, after_setup_artifact.</summary>
internal sealed class ArtifactImportStage(StageName name, IReadOnlyList<ResolvedImport> imports) : Stage
{
    public override StageName Name => name;

    public override bool IsEmpty => imports.Count == 0;

    public IReadOnlyList<ResolvedImport> Imports => imports;

    public override void AddInputs(SignatureBuilder signature)
    {
        foreach (var (import, artifact) in imports)
        {
            signature.Add("artifact", artifact.LastSignature);
            signature.Add("import", [import.Add, import.To, import.Owner ?? "", import.Group ?? ""], [import.Location]);
            signature.Add("includePaths", import.IncludePaths);
            signature.Add("excludePaths", import.ExcludePaths);
        }
    }

    public override StageWork Work => StageWork.None with { Imports = imports };

    public static StageName For(ImportPoint point) => point switch
    {
        ImportPoint.BeforeInstall => StageName.BeforeInstallArtifact,
        ImportPoint.AfterInstall => StageName.AfterInstallArtifact,
        ImportPoint.BeforeSetup => StageName.BeforeSetupArtifact,
        ImportPoint.AfterSetup => StageName.AfterSetupArtifact,
        _ => throw new ArgumentOutOfRangeException(nameof(point)),
    };
}
