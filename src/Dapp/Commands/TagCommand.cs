using Dapp.Registry.Names;
using Dapp.Reporting;

namespace Dapp.Commands;

/// <summary><c>dapp dimg tag [DIMG...] REPO</c>: names the built dimgs locally, no registry involved.</summary>
public static class TagCommand
{
    public static async Task<IReadOnlyList<string>> RunAsync(DappProject project, IReadOnlyCollection<string> patterns, RepositoryName repo,
        TagOptions tagOptions, bool dryRun, IReporter reporter, CancellationToken ct)
    {
        var tags = tagOptions.Resolve(project.Repository, project.Options.Environment);
        var conveyors = await project.SelectConveyorsAsync(patterns, ct);
        await project.EnsureEngineAsync(ct);
        var tagged = new List<string>();
        foreach (var conveyor in conveyors)
        {
            if (!await project.Stages.ExistsAsync(conveyor.LastSignature, ct))
                throw new DappException($"Dimg hasn't been built yet: {conveyor.Image.DisplayName} (run dapp dimg build first)");
            foreach (var tag in tags)
            {
                var target = DimgImageNames.For(repo, conveyor.Image, tag.Tag);
                reporter.Info($"{conveyor.Image.DisplayName}: {(dryRun ? "would tag" : "tag")} {target}");
                await project.Stages.TagAsync(conveyor.LastSignature, target, tag.Scheme, dryRun, ct);
                tagged.Add(target);
            }
        }
        return tagged;
    }
}
