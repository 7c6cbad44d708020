namespace Dapp.Config;

/// <summary>A parsed, validated dappfile.</summary>
public sealed record Dappfile(string Path, IReadOnlyList<ImageConfig> Dimgs, IReadOnlyList<ImageConfig> Artifacts)
{
    public ImageConfig? FindDimg(string name) => Dimgs.FirstOrDefault(d => d.Name == name);

    public ImageConfig? FindArtifact(string name) => Artifacts.FirstOrDefault(a => a.Name == name);

    /// <summary>The dimgs matching any of the shell-glob patterns (all of them with no pattern); a nameless dimg matches every pattern.</summary>
    public IReadOnlyList<ImageConfig> SelectDimgs(IReadOnlyCollection<string> patterns)
    {
        if (patterns.Count == 0) return Dimgs;
        var selected = Dimgs.Where(d => d.Name is null || patterns.Any(p => Glob.IsMatch(p, d.Name))).ToList();
        if (selected.Count == 0)
            throw new DappException($"No such dimg: {string.Join(", ", patterns)} (dimgs in {System.IO.Path.GetFileName(Path)}: {string.Join(", ", Dimgs.Select(d => d.DisplayName))})");
        return selected;
    }
}
