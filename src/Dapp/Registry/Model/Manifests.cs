using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dapp.Registry.Model;

public sealed record Platform(
    [property: JsonPropertyName("architecture")] string Architecture,
    [property: JsonPropertyName("os")] string Os,
    [property: JsonPropertyName("variant"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Variant = null)
{
    public static Platform LinuxAmd64 { get; } = new("amd64", "linux");

    /// <summary><c>linux/amd64</c>, <c>linux/arm64/v8</c>.</summary>
    public static Platform Parse(string value)
    {
        var parts = value.Split('/');
        return parts.Length switch
        {
            2 => new Platform(parts[1], parts[0]),
            3 => new Platform(parts[1], parts[0], parts[2]),
            _ => throw new DappException($"Invalid platform '{value}': expected OS/ARCH[/VARIANT]"),
        };
    }

    public bool Matches(Platform? other) =>
        other is not null && other.Os == Os && other.Architecture == Architecture && (Variant is null || Variant == other.Variant);

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}

/// <summary>A content descriptor: what a manifest says about a blob or another manifest.</summary>
public sealed record Descriptor(
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("platform"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Platform? Platform = null);

/// <summary>An image manifest (Docker schema 2 or OCI).</summary>
public sealed record Manifest(
    [property: JsonPropertyName("schemaVersion")] int SchemaVersion,
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("config")] Descriptor Config,
    [property: JsonPropertyName("layers")] IReadOnlyList<Descriptor> Layers);

/// <summary>A manifest list / OCI image index.</summary>
public sealed record ImageIndex(
    [property: JsonPropertyName("schemaVersion")] int SchemaVersion,
    [property: JsonPropertyName("mediaType")] string MediaType,
    [property: JsonPropertyName("manifests")] IReadOnlyList<Descriptor> Manifests);

/// <summary>A manifest as the registry served it: the exact bytes (their digest is the manifest's identity), and its type.</summary>
public sealed record RawManifest(byte[] Content, string MediaType, string Digest)
{
    public bool IsIndex => MediaTypes.IsIndex(MediaType);

    public Manifest AsManifest() => Parse(RegistryJson.Default.Manifest, "an image manifest") is { Config: not null, Layers: not null } manifest
        ? manifest : throw Invalid("an image manifest", "no config or layers");

    public ImageIndex AsIndex() => Parse(RegistryJson.Default.ImageIndex, "an image index") is { Manifests: not null } index
        ? index : throw Invalid("an image index", "no manifests");

    private T Parse<T>(System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(Content, type) ?? throw Invalid(what, "it is empty");
        }
        catch (JsonException e)
        {
            throw Invalid(what, e.Message);
        }
    }

    private Model.RegistryException Invalid(string what, string why) =>
        new($"the registry sent {Digest}, which is not a valid {what} ({why})", Model.RegistryErrorCode.ManifestInvalid, null);

    public static RawManifest From(Manifest manifest)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, RegistryJson.Default.Manifest);
        return new RawManifest(bytes, manifest.MediaType, Model.Digest.Of(bytes));
    }

    public static RawManifest From(ImageIndex index)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(index, RegistryJson.Default.ImageIndex);
        return new RawManifest(bytes, index.MediaType, Model.Digest.Of(bytes));
    }
}

/// <summary>What a manifest HEAD tells: the manifest exists, with this digest, size and type.</summary>
public sealed record ManifestInfo(string Digest, long Size, string MediaType);

[JsonSerializable(typeof(Manifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(RegistryErrors))]
[JsonSerializable(typeof(TagList))]
[JsonSerializable(typeof(Catalog))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(DockerConfigFile))]
[JsonSerializable(typeof(CredentialHelperResponse))]
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
internal sealed partial class RegistryJson : JsonSerializerContext;

internal sealed record RegistryErrors([property: JsonPropertyName("errors")] IReadOnlyList<RegistryWireError>? Errors);

internal sealed record RegistryWireError(
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("message")] string? Message);

internal sealed record TagList(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("tags")] IReadOnlyList<string>? Tags);

internal sealed record Catalog([property: JsonPropertyName("repositories")] IReadOnlyList<string>? Repositories);

internal sealed record TokenResponse(
    [property: JsonPropertyName("token")] string? Token,
    [property: JsonPropertyName("access_token")] string? AccessToken,
    [property: JsonPropertyName("expires_in")] int? ExpiresIn);

internal sealed record DockerConfigFile(
    [property: JsonPropertyName("auths")] Dictionary<string, DockerConfigAuth>? Auths,
    [property: JsonPropertyName("credsStore")] string? CredsStore,
    [property: JsonPropertyName("credHelpers")] Dictionary<string, string>? CredHelpers);

internal sealed record DockerConfigAuth(
    [property: JsonPropertyName("auth")] string? Auth,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("password")] string? Password,
    [property: JsonPropertyName("identitytoken")] string? IdentityToken);

internal sealed record CredentialHelperResponse(
    [property: JsonPropertyName("Username")] string? Username,
    [property: JsonPropertyName("Secret")] string? Secret);
