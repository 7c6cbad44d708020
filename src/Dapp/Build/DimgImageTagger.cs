using Dapp.Engine;
using Dapp.Storage;
using Docker.DotNet.Models;

namespace Dapp.Build;

/// <summary>Makes a dimg image: the last stage's image plus the dimg labels, under its final name.</summary>
public sealed class DimgImageTagger(DockerEngine engine, string project)
{
    public async Task TagAsync(string stageImage, string target, string tagScheme, CancellationToken ct)
    {
        var stage = await engine.InspectImageAsync(stageImage, ct)
            ?? throw new DappException($"{stageImage} disappeared");
        var container = await engine.CreateIdleContainerAsync(stageImage, $"{StageImageBuilder.ContainerPrefix}{project}.tag.{Guid.NewGuid():N}",
            StageImageBuilder.ContainerLabels(project));
        try
        {
            var labels = new Dictionary<string, string> { [DappLabels.Dimg] = "true", [DappLabels.TagScheme] = tagScheme };
            await engine.CommitAsync(container, CommitConfigs.From(stage.Config ?? new DockerOCIImageConfig(), null, labels), target, ct);
        }
        finally
        {
            await engine.RemoveContainerAsync(container, CancellationToken.None);
        }
    }
}
