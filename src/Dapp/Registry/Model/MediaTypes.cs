namespace Dapp.Registry.Model;

internal static class MediaTypes
{
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";

    public static readonly string[] Manifests = [DockerManifest, OciManifest];
    public static readonly string[] Indexes = [DockerManifestList, OciIndex];

    /// <summary>The Accept header for manifest requests: every manifest and index type we read.</summary>
    public static readonly string[] Accepted = [.. Manifests, .. Indexes];

    /// <summary>Docker's schema 1 manifests, which some registries still answer with.</summary>
    public const string DockerManifestV1 = "application/vnd.docker.distribution.manifest.v1+prettyjws";

    /// <summary>Whether a manifest request's answer has a manifest's type (registries answer schema 1 and plain JSON too).</summary>
    public static bool IsManifestAnswer(string mediaType) =>
        Accepted.Contains(mediaType) || mediaType is DockerManifestV1 or "application/vnd.docker.distribution.manifest.v1+json" or "application/json";

    public static bool IsIndex(string? mediaType) => mediaType is not null && Indexes.Contains(mediaType);

    /// <summary>The config and layer types of Docker's schema 2 and their OCI equivalents: the same bytes.</summary>
    private static readonly (string Docker, string Oci)[] Equivalents =
    [
        (DockerConfig, OciConfig),
        (DockerLayer, OciLayer),
        ("application/vnd.docker.image.rootfs.diff.tar", "application/vnd.oci.image.layer.v1.tar"),
        ("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"),
    ];

    /// <summary>
    /// A config's or layer's type as an OCI manifest must name it. A manifest of one family naming blobs of the other
    /// is read by Docker but refused by containers/image (Podman, Buildah, Skopeo: "unsupported image-specific
    /// operation on artifact"), so a manifest changed from one family to the other changes its blobs' types too.
    /// </summary>
    public static string AsOci(string mediaType) => Equivalents.FirstOrDefault(e => e.Docker == mediaType).Oci ?? mediaType;

    /// <summary>The Docker schema 2 type of a config or layer (<see cref="AsOci"/> undone).</summary>
    public static string AsDocker(string mediaType) => Equivalents.FirstOrDefault(e => e.Oci == mediaType).Docker ?? mediaType;
}
