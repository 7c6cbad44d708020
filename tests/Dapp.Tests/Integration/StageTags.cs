using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Storage;

namespace Dapp.Tests.Integration;

/// <summary>Checks of the stage tags in a registry, as another host would find them.</summary>
public static class StageTags
{
    /// <summary>Every stage tag of the repository names a manifest whose config and layers the registry has, whole.</summary>
    public static async Task<int> AssertCompleteAsync(string repo, string context)
    {
        using var client = new RegistryClient();
        var repository = RepositoryName.Parse(repo);
        IReadOnlyList<string> tags;
        try
        {
            tags = await client.ListTagsAsync(repository, 1000, default);
        }
        catch (RegistryException e) when (e.IsNotFound)
        {
            return 0;
        }
        var stageTags = tags.Where(t => t.StartsWith(RegistryStagesStorage.TagPrefix, StringComparison.Ordinal)).ToList();
        foreach (var tag in stageTags)
        {
            var manifest = (await client.GetManifestAsync(ImageReference.WithTag(repository, tag), null, default)).AsManifest();
            foreach (var blob in manifest.Layers.Prepend(manifest.Config))
                Assert.True(await client.HeadBlobAsync(repository, blob.Digest, default) == blob.Size, $"{context}: {tag} names {blob.Digest}, which the registry lacks");
        }
        return stageTags.Count;
    }

}
