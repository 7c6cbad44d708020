namespace Dapp.Registry.Names;

/// <summary>An image in a registry by tag or digest: <c>host:port/path:tag</c>, <c>path@sha256:…</c>.</summary>
public sealed record ImageReference(RepositoryName Repository, string? Tag, string? Digest)
{
    /// <summary>What the manifest endpoints take: the digest when there is one, else the tag.</summary>
    public string Identifier => Digest ?? Tag ?? "latest";

    public static ImageReference Parse(string reference)
    {
        string? digest = null;
        var at = reference.IndexOf('@');
        if (at >= 0)
        {
            digest = reference[(at + 1)..];
            if (!Model.Digest.TryParse(digest, out _))
                throw new DappException($"Invalid image reference '{reference}': bad digest '{digest}'");
            reference = reference[..at];
        }
        string? tag = null;
        var slash = reference.LastIndexOf('/');
        var colon = reference.LastIndexOf(':');
        if (colon > slash)
        {
            tag = reference[(colon + 1)..];
            if (!DockerNames.IsValidTag(tag))
                throw new DappException($"Invalid image reference '{reference}': bad tag '{tag}'");
            reference = reference[..colon];
        }
        if (tag is null && digest is null) tag = "latest";
        return new ImageReference(RepositoryName.Parse(reference), tag, digest);
    }

    public static ImageReference WithTag(RepositoryName repository, string tag) => new(repository, tag, null);

    public static ImageReference WithDigest(RepositoryName repository, string digest) => new(repository, null, digest);

    public override string ToString() =>
        Repository + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);
}
