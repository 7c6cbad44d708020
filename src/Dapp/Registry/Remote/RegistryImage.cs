using System.Text.Json;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Registry.Remote;

/// <summary>An image in a registry as its manifest and config blob say: what dapp reads instead of pulling it.</summary>
internal sealed record RegistryImage(RawManifest Raw, Manifest Manifest, byte[] Config, IReadOnlyDictionary<string, string> Labels)
{
    /// <summary>Reads the manifest (from an index, linux/amd64's) and the config: two requests. Throws "not found" when it does not exist.</summary>
    public static async Task<RegistryImage> ReadAsync(RegistryClient client, ImageReference reference, CancellationToken ct)
    {
        var raw = await client.GetManifestAsync(reference, null, ct);
        var manifest = raw.AsManifest();
        using var config = new MemoryStream();
        await client.DownloadBlobAsync(reference.Repository, manifest.Config, config, null, ct);
        return new RegistryImage(raw, manifest, config.ToArray(), LabelsOf(config.ToArray(), reference));
    }

    /// <summary>When the image was made (its config's <c>created</c>); null when the config does not say.</summary>
    public DateTimeOffset? Created
    {
        get
        {
            try
            {
                using var json = JsonDocument.Parse(Config);
                return json.RootElement.TryGetProperty("created", out var created) && created.ValueKind == JsonValueKind.String
                    && DateTimeOffset.TryParse(created.GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
                    ? at : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>The diff IDs of its layers (the config's <c>rootfs.diff_ids</c>): what the layers are, however they were compressed.</summary>
    public IReadOnlyList<string> DiffIds
    {
        get
        {
            try
            {
                using var json = JsonDocument.Parse(Config);
                return json.RootElement.TryGetProperty("rootfs", out var rootfs) && rootfs.ValueKind == JsonValueKind.Object
                       && rootfs.TryGetProperty("diff_ids", out var ids) && ids.ValueKind == JsonValueKind.Array
                    ? ids.EnumerateArray().Select(i => i.GetString() ?? "").ToList()
                    : [];
            }
            catch (JsonException)
            {
                return [];
            }
        }
    }

    /// <summary>The image's labels, or null when it does not exist (one manifest GET answers both).</summary>
    public static async Task<IReadOnlyDictionary<string, string>?> ReadLabelsAsync(RegistryClient client, ImageReference reference, CancellationToken ct)
    {
        try
        {
            return (await ReadAsync(client, reference, ct)).Labels;
        }
        catch (RegistryException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    private static IReadOnlyDictionary<string, string> LabelsOf(byte[] config, ImageReference reference)
    {
        var labels = new Dictionary<string, string>();
        try
        {
            using var json = JsonDocument.Parse(config);
            if (json.RootElement.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object
                && c.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object)
                foreach (var label in l.EnumerateObject())
                    labels[label.Name] = label.Value.ValueKind == JsonValueKind.String ? label.Value.GetString()! : label.Value.GetRawText();
        }
        catch (JsonException e)
        {
            throw new DappException($"{reference}: its image config is not valid JSON ({e.Message})");
        }
        return labels;
    }
}
