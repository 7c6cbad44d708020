using Dapp.Config;

namespace Dapp.Stages;

/// <summary>The base: an image name (<c>from</c>) or another dimg's or artifact's last stage (<c>fromDimg</c>, <c>fromDimgArtifact</c>).</summary>
public sealed class FromStage(ImageConfig image, Conveyor? baseConveyor) : Stage
{
    public override StageName Name => StageName.From;

    public override bool IsEmpty => false;

    /// <summary>The image name given by <c>from</c>; null when built on another conveyor.</summary>
    public string? BaseImage => image.From;

    /// <summary>The conveyor whose last stage is the base (fromDimg, fromDimgArtifact).</summary>
    public Conveyor? BaseConveyor => baseConveyor;

    public override void AddInputs(SignatureBuilder signature)
    {
        if (baseConveyor is not null)
            signature.Add(image.FromDimg is not null ? "fromDimg" : "fromDimgArtifact", baseConveyor.LastSignature);
        else
            signature.Add("from", image.From, image.FromLocation);
        signature.Add("fromCacheVersion", image.FromCacheVersion);
        foreach (var mount in image.Mounts)
            signature.Add("mount", [mount.To, mount.Source.ToString(), mount.FromPath ?? ""], [mount.Location]);
    }
}
