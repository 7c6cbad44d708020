using System.Text.Json;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Storage;

/// <summary>The labels of an image in a registry, read from its config blob; null when the image does not exist.</summary>
public static class RegistryImageLabels
{
    public static async Task<IReadOnlyDictionary<string, string>?> ReadAsync(RegistryClient client, ImageReference reference, CancellationToken ct)
    {
        RawManifest raw;
        try
        {
            // One GET, no HEAD first: a missing image answers it with "not found" too.
            raw = await client.GetManifestExactAsync(reference, ct);
        }
        catch (RegistryException e) when (e.IsNotFound)
        {
            return null;
        }
        var manifest = (raw.IsIndex ? await client.GetManifestAsync(reference, null, ct) : raw).AsManifest();
        using var config = new MemoryStream();
        await client.DownloadBlobAsync(reference.Repository, manifest.Config, config, null, ct);
        using var json = JsonDocument.Parse(config.ToArray());
        var labels = new Dictionary<string, string>();
        if (json.RootElement.TryGetProperty("config", out var c) && c.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object)
            foreach (var label in l.EnumerateObject())
                labels[label.Name] = label.Value.GetString() ?? "";
        return labels;
    }
}
