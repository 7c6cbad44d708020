using System.Text.Json;
using System.Text.Json.Nodes;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Engine;

namespace Dapp.Storage;

/// <summary>
/// Makes dimg images inside the registry, without the engine: a stage's config plus the dimg labels as a new config
/// blob, and a manifest of the same type with the stage's own layers (mounted from the stages repository when the
/// dimg repository is another; streamed through only where the registry refuses a mount). Nothing else changes, not
/// even a timestamp, so the same stage and tag scheme always give the same manifest digest: a tag that already names
/// it is left alone.
/// </summary>
internal sealed class RegistryDimgImages(RemoteRepository stages)
{
    /// <summary>Writes <paramref name="target"/>; false when it already is this image.</summary>
    public async Task<bool> MakeAsync(RegistryImage stage, ImageReference target, string tagScheme, bool dryRun, CancellationToken ct)
    {
        var config = DimgConfig(stage.Config, tagScheme);
        var configDescriptor = stage.Manifest.Config with { Digest = Digest.Of(config), Size = config.Length };
        var content = WithConfig(stage.Raw.Content, configDescriptor);
        var manifest = new RawManifest(content, stage.Raw.MediaType, Digest.Of(content));

        var existing = await stages.Client.HeadManifestAsync(target, ct);
        if (existing?.Digest == manifest.Digest) return false;
        if (dryRun) return true;

        var repository = target.Repository;
        var uploads = new List<Task>
        {
            stages.Client.UploadBlobAsync(repository, configDescriptor, (offset, _) => Task.FromResult<Stream>(new MemoryStream(config, (int)offset, config.Length - (int)offset)),
                null, null, ct),
        };
        if (repository != stages.Name)
            uploads.AddRange(stage.Manifest.Layers.DistinctBy(l => l.Digest).Select(layer => CopyLayerAsync(layer, repository, ct)));
        await Task.WhenAll(uploads);
        try
        {
            await stages.Client.PutManifestAsync(repository, target.Identifier, manifest, ct);
        }
        catch (RegistryException e) when (!e.IsTransient && e.Code != RegistryErrorCode.Unauthorized)
        {
            // Refused (not for want of credentials): another host may have written this very image under the tag
            // meanwhile, on a registry that refuses to write it twice.
            if (await stages.Client.HeadManifestAsync(target, ct) is not { } now) throw;
            if (now.Digest == manifest.Digest) return false;
            throw new DappException($"{target}: the registry refuses to write this tag, which names another image ({now.Digest}) there: "
                + $"{e.Message}. A registry with immutable tags (Harbor's immutability rules, ECR's IMMUTABLE setting) never lets a tag "
                + "name another image: use another tag (a tag per commit, --tag-commit), or delete the tag in the registry first", e);
        }
        return true;
    }

    /// <summary>A mount when the registry allows it; else the layer goes through a spool, downloaded only if the upload asks for it.</summary>
    private async Task CopyLayerAsync(Descriptor layer, RepositoryName repository, CancellationToken ct)
    {
        FileStream? spool = null;
        try
        {
            await stages.Client.UploadBlobAsync(repository, layer, async (offset, token) =>
            {
                if (spool is null)
                {
                    spool = TempSpool.Create("layer", shared: true);
                    await stages.Client.DownloadBlobAsync(stages.Name, layer, spool, null, token);
                    await spool.FlushAsync(token);
                }
                return TempSpool.OpenView(spool, offset);
            }, stages.Name, null, ct);
        }
        finally
        {
            if (spool is not null) await spool.DisposeAsync();
        }
    }

    /// <summary>The stage's config with <c>dapp-dimg=true</c> and the tag scheme among its labels; every other byte of meaning kept.</summary>
    public static byte[] DimgConfig(byte[] stageConfig, string tagScheme)
    {
        var root = JsonNode.Parse(stageConfig) as JsonObject ?? throw new DappException("a stage's image config is not a JSON object");
        if (root["config"] is not JsonObject config) root["config"] = config = new JsonObject();
        if (config["Labels"] is not JsonObject labels) config["Labels"] = labels = new JsonObject();
        labels[DappLabels.Dimg] = "true";
        labels[DappLabels.TagScheme] = tagScheme;
        return Serialize(root);
    }

    /// <summary>The manifest with another config descriptor: digest and size replaced, everything else as it was.</summary>
    public static byte[] WithConfig(byte[] manifest, Descriptor config)
    {
        var root = JsonNode.Parse(manifest) as JsonObject ?? throw new DappException("a stage's manifest is not a JSON object");
        var descriptor = root["config"] as JsonObject ?? throw new DappException("a stage's manifest has no config");
        descriptor["digest"] = config.Digest;
        descriptor["size"] = config.Size;
        PublishedStages.Unstamp(root);
        return Serialize(root);
    }

    /// <summary>A JSON document as compact UTF-8, the same bytes for the same document every time.</summary>
    internal static byte[] Serialize(JsonNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer)) node.WriteTo(writer);
        return buffer.ToArray();
    }
}
