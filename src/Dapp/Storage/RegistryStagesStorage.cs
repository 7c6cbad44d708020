using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Storage;

/// <summary>Stages in a registry: <c>REPO:dimgstage-&lt;signature&gt;</c>, the stages of every dimg and artifact flat in REPO.</summary>
public sealed class RegistryStagesStorage(RegistryClient client, RepositoryName repository)
{
    public const string TagPrefix = "dimgstage-";

    public RepositoryName Repository => repository;

    public static string Tag(string signature) => TagPrefix + signature;

    public string ImageName(string signature) => $"{repository}:{Tag(signature)}";

    /// <summary>How progress displays name a stage: <c>dimgstage-&lt;12 hex&gt;</c>.</summary>
    public static string ShortName(string signature) => TagPrefix + signature[..12];

    /// <summary>Which of the signatures the registry has: one manifest HEAD each, all at once. A missing repository has none.</summary>
    public async Task<IReadOnlyDictionary<string, ManifestInfo?>> HeadAsync(IEnumerable<string> signatures, CancellationToken ct)
    {
        var distinct = signatures.Distinct().ToList();
        var answers = await Task.WhenAll(distinct.Select(s => client.HeadManifestAsync(ImageReference.WithTag(repository, Tag(s)), ct)));
        return distinct.Zip(answers).ToDictionary(p => p.First, p => p.Second);
    }

    /// <summary>The stage tags of the repository; none when it does not exist.</summary>
    public async Task<IReadOnlyList<string>> ListStageTagsAsync(CancellationToken ct)
    {
        try
        {
            return (await client.ListTagsAsync(repository, 1000, ct)).Where(t => t.StartsWith(TagPrefix, StringComparison.Ordinal)).ToList();
        }
        catch (RegistryException e) when (e.IsNotFound)
        {
            return [];
        }
    }
}
