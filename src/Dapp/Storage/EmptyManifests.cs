using System.Text.Json.Nodes;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Storage;

/// <summary>
/// Layer-less OCI manifests whose config is the 2-byte empty one and whose annotations say what they are: stage claims
/// (docs/distributed.md), and the stand-ins through which cleanup deletes one tag of a manifest that kept tags share
/// (docs/cleanup.md). The config blob is uploaded once per repository and command.
/// </summary>
internal sealed class EmptyManifests(RemoteRepository remote)
{
    private static readonly byte[] EmptyConfig = "{}"u8.ToArray();
    private static readonly Descriptor EmptyConfigDescriptor = new("application/vnd.oci.empty.v1+json", Digest.Of(EmptyConfig), EmptyConfig.Length);

    private readonly Lock _lock = new();
    private Task? _configUploaded;

    public Task EnsureConfigAsync(CancellationToken ct)
    {
        lock (_lock)
            return _configUploaded ??= remote.Client.UploadBlobAsync(remote.Name, EmptyConfigDescriptor,
                (offset, _) => Task.FromResult<Stream>(new MemoryStream(EmptyConfig, (int)offset, EmptyConfig.Length - (int)offset)), null, null, ct);
    }

    /// <summary>The annotation of a stand-in: the tag it stands in for while that tag is deleted alone.</summary>
    public const string DeletedTagKey = "dapp.deleted-tag";

    /// <summary>A stand-in of its own (a nonce keeps two stand-ins apart) for a tag that is about to be deleted alone.</summary>
    public static RawManifest StandIn(string tag) => Create(new Dictionary<string, string>
    {
        [DeletedTagKey] = tag,
        ["dapp.nonce"] = Guid.NewGuid().ToString("N"),
    });

    /// <summary>Whether a manifest is a stand-in (a cleanup killed between writing it and deleting it leaves one under the tag).</summary>
    public static bool IsStandIn(RawManifest manifest)
    {
        if (manifest.MediaType != MediaTypes.OciManifest) return false;
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(manifest.Content);
            return json.RootElement.TryGetProperty("annotations", out var annotations) && annotations.ValueKind == System.Text.Json.JsonValueKind.Object
                && annotations.TryGetProperty(DeletedTagKey, out _);
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    public static RawManifest Create(IReadOnlyDictionary<string, string> annotations)
    {
        var annotationsJson = new JsonObject();
        foreach (var (key, value) in annotations) annotationsJson[key] = value;
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = new JsonObject
            {
                ["mediaType"] = EmptyConfigDescriptor.MediaType,
                ["digest"] = EmptyConfigDescriptor.Digest,
                ["size"] = EmptyConfigDescriptor.Size,
            },
            ["layers"] = new JsonArray(),
            ["annotations"] = annotationsJson,
        };
        var content = RegistryDimgImages.Serialize(manifest);
        return new RawManifest(content, MediaTypes.OciManifest, Digest.Of(content));
    }
}
