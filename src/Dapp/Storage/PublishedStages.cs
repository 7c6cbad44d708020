using System.Globalization;
using System.Text.Json.Nodes;
using Dapp.Registry.Model;

namespace Dapp.Storage;

/// <summary>
/// A stage's manifest as dapp writes its tag: an OCI manifest (the same config and layers) whose annotation records
/// when the stage reached the repository, so that the cleanup's grace period counts from the push, not from the
/// build (a build in flight never loses the stage it just pushed; docs/cleanup.md).
/// </summary>
internal static class PublishedStages
{
    public const string PublishedKey = "dapp.published";

    public static RawManifest Stamp(RawManifest manifest, DateTimeOffset now)
    {
        var root = JsonNode.Parse(manifest.Content) as JsonObject ?? throw new DappException("a stage's manifest is not a JSON object");
        root["mediaType"] = MediaTypes.OciManifest;
        // The blobs' types change family with the manifest's (MediaTypes.AsOci).
        foreach (var descriptor in new[] { root["config"] }.Concat(root["layers"] as JsonArray ?? []).OfType<JsonObject>())
            if (descriptor["mediaType"]?.GetValue<string>() is { } type) descriptor["mediaType"] = MediaTypes.AsOci(type);
        var annotations = root["annotations"] as JsonObject ?? new JsonObject();
        annotations[PublishedKey] = now.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        root["annotations"] = annotations;
        var content = RegistryDimgImages.Serialize(root);
        return new RawManifest(content, MediaTypes.OciManifest, Digest.Of(content));
    }

    /// <summary>When the stage was published, if its manifest says (stages pushed by older dapps do not).</summary>
    public static DateTimeOffset? PublishedAt(RawManifest manifest)
    {
        try
        {
            return JsonNode.Parse(manifest.Content)?["annotations"]?[PublishedKey]?.GetValue<string>() is { } text
                   && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                ? at
                : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The manifest without the stamp (a dimg image made from the stage is not "published" when the stage was).</summary>
    public static void Unstamp(JsonObject manifest)
    {
        if (manifest["annotations"] is not JsonObject annotations) return;
        annotations.Remove(PublishedKey);
        if (annotations.Count == 0) manifest.Remove("annotations");
    }
}
