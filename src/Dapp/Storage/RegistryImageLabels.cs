using System.Text.Json;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Storage;

/// <summary>The labels of an image in a registry, read from its config blob; null when the image does not exist.</summary>
public static class RegistryImageLabels
{
    public static async Task<IReadOnlyDictionary<string, string>?> ReadAsync(RegistryClient client, ImageReference reference, CancellationToken ct)
    {
        if (await client.HeadManifestAsync(reference, ct) is null) return null;
        var manifest = (await client.GetManifestAsync(reference, null, ct)).AsManifest();
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
