using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Storage;

namespace Dapp.Tests.Integration;

/// <summary>Checks of the stage tags in a registry, as another host would find them.</summary>
public static class StageTags
{
    /// <summary>The <c>dimgstage-*</c> tags of the repository; none when it does not exist.</summary>
    public static async Task<IReadOnlyList<string>> ListAsync(string repo)
    {
        using var client = new RegistryClient();
        return (await RegistryStagesStorage.ListTagsAsync(new Dapp.Registry.Remote.RemoteRepository(client, RepositoryName.Parse(repo)), default))
            .Where(t => t.StartsWith(RegistryStagesStorage.TagPrefix, StringComparison.Ordinal)).ToList();
    }

    /// <summary>Every stage tag of the repository names a manifest whose config and layers the registry has, whole.</summary>
    public static async Task<int> AssertCompleteAsync(string repo, string context)
    {
        using var client = new RegistryClient();
        var repository = RepositoryName.Parse(repo);
        var stageTags = await ListAsync(repo);
        foreach (var tag in stageTags)
        {
            var manifest = (await client.GetManifestAsync(ImageReference.WithTag(repository, tag), null, default)).AsManifest();
            foreach (var blob in manifest.Layers.Prepend(manifest.Config))
                Assert.True(await client.HeadBlobAsync(repository, blob.Digest, default) == blob.Size, $"{context}: {tag} names {blob.Digest}, which the registry lacks");
        }
        return stageTags.Count;
    }

}
