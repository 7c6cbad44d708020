using System.Text.RegularExpressions;

namespace Dapp.Tests.Unit;

/// <summary>
/// The library's folders are the layers README's architecture section lists, in dependency order: a folder may use
/// the folders listed below it (and the root namespace), never one listed above it.
/// </summary>
public partial class LayerTests
{
    private static readonly string Source = Path.Combine(TestPaths.RepoRoot, "src", "Dapp");

    /// <summary>The layer list: the indented block of README's architecture section, one "    Name  description" line per layer.</summary>
    private static List<string> ReadmeLayers()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var start = readme.IndexOf("whose folders are the layers", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md no longer introduces the layers");
        return LayerLine().Matches(readme[start..]).Select(m => m.Groups[1].Value).ToList();
    }

    [GeneratedRegex(@"^    ([A-Z][a-z]+)  +\S", RegexOptions.Multiline)]
    private static partial Regex LayerLine();

    private static IEnumerable<string> Folders() =>
        Directory.EnumerateDirectories(Source).Select(Path.GetFileName).OfType<string>().Where(d => d is not ("bin" or "obj")).Order();

    [Fact]
    public void README_lists_every_folder_once()
    {
        var layers = ReadmeLayers();
        Assert.Equal(layers.Distinct().Count(), layers.Count);
        Assert.Equal(Folders(), layers.Order());
    }

    [Fact]
    public void No_folder_uses_a_folder_listed_above_it()
    {
        var layers = ReadmeLayers();
        // A layer's types, to tell "Storage.StageClaims" (a use) from "options.Storage" or "Commands.Count" (members).
        var types = layers.ToDictionary(l => l, l => Directory.EnumerateFiles(Path.Combine(Source, l), "*.cs", SearchOption.AllDirectories)
            .SelectMany(f => TypeDeclaration().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value)).ToHashSet());
        var violations = new List<string>();
        foreach (var (layer, index) in layers.Select((l, i) => (l, i)))
            foreach (var file in Directory.EnumerateFiles(Path.Combine(Source, layer), "*.cs", SearchOption.AllDirectories)
                         .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")))
            {
                var code = Code(File.ReadAllText(file));
                var used = Using().Matches(code).Select(m => m.Groups[1].Value)
                    .Concat(Qualified().Matches(code).Where(m => types.TryGetValue(m.Groups[1].Value, out var t) && t.Contains(m.Groups[2].Value)).Select(m => m.Groups[1].Value));
                foreach (var above in used.Where(u => layers.IndexOf(u) is var i && i >= 0 && i < index).Distinct())
                    violations.Add($"{Path.GetRelativePath(Source, file)} ({layer}) uses {above}, which README lists above it");
            }
        Assert.Empty(violations);
    }

    /// <summary>The code without comments and string literals (which name layers in prose).</summary>
    private static string Code(string text) => StringLiteral().Replace(Comment().Replace(text, ""), "\"\"");

    [GeneratedRegex(@"(?:^|\s)(?:class|record|interface|enum|struct) ([A-Z]\w*)")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"^using Dapp\.(\w+)", RegexOptions.Multiline)]
    private static partial Regex Using();

    [GeneratedRegex(@"(?<![\w.])(?:Dapp\.)?([A-Z][a-z]+)\.([A-Z]\w*)")]
    private static partial Regex Qualified();

    [GeneratedRegex(@"//[^\n]*")]
    private static partial Regex Comment();

    [GeneratedRegex(@"@?\$*""(?:""""|\\.|[^""\\\n])*""")]
    private static partial Regex StringLiteral();
}
