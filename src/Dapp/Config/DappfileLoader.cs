namespace Dapp.Config;

/// <summary>Finds, renders and parses the dappfile of a work dir.</summary>
public static class DappfileLoader
{
    public static readonly string[] FileNames = ["dappfile.yml", "dappfile.yaml"];

    public static async Task<Dappfile> LoadAsync(string workDir, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        var path = FileNames.Select(n => Path.Combine(workDir, n)).FirstOrDefault(File.Exists)
            ?? throw new DappException($"No dappfile.yml or dappfile.yaml in {workDir}");
        var text = await File.ReadAllTextAsync(path, cancellationToken);
        var rendered = DappfileTemplate.Render(text, Path.GetFileName(path), environment);
        return DappfileParser.Parse(rendered, path);
    }
}
