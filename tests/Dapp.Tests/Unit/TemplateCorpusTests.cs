using System.Text.RegularExpressions;
using Dapp.Config;

namespace Dapp.Tests.Unit;

/// <summary>
/// Each directory of tests/Dapp.Tests/Templates is a dappfile (with its files and .dappfiles snippets, and an optional
/// <c>env</c> of NAME=VALUE lines) rendered by Go's text/template and sprig, as dapp did: <c>expected</c> is the output
/// Go gave (tests/Dapp.Tests/Templates/make-expected runs the oracle), <c>expected-error</c> the line Go named and a word
/// our message must name too.
/// </summary>
public partial class TemplateCorpusTests
{
    private static readonly string Corpus = Path.Combine(TestPaths.RepoRoot, "tests", "Dapp.Tests", "Templates");

    public static TheoryData<string> Cases() => new(Directory.GetDirectories(Corpus).Select(Path.GetFileName).Order().OfType<string>());

    private static (string Text, Func<string, string?> Env, string Dir) Load(string name)
    {
        var dir = Path.Combine(Corpus, name);
        var envFile = Path.Combine(dir, "env");
        var env = File.Exists(envFile)
            ? File.ReadAllLines(envFile).Where(l => l.Contains('=')).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..])
            : [];
        return (File.ReadAllText(Path.Combine(dir, "dappfile.yml")), n => env.GetValueOrDefault(n), dir);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders_as_Go_and_sprig_do(string name)
    {
        var (text, env, dir) = Load(name);
        var expected = Path.Combine(dir, "expected");
        if (File.Exists(expected))
        {
            var warnings = new List<string>();
            Assert.Equal(File.ReadAllText(expected), DappfileTemplate.Render(text, "dappfile.yml", env, new ProjectFiles(dir, dir), warnings.Add));
            return;
        }
        // "FILE:LINE WORD": where Go stopped, and what it named (a function, a field, an action); expected-error.ours
        // where we name a better place than Go, on purpose (an unclosed {{if}} is named, not the end of the file).
        var ours = Path.Combine(dir, "expected-error.ours");
        var error = File.ReadAllText(File.Exists(ours) ? ours : Path.Combine(dir, "expected-error")).Trim();
        var match = ExpectedError().Match(error);
        Assert.True(match.Success, $"expected-error of {name}: {error}");
        var e = Assert.Throws<DappfileException>(() => DappfileTemplate.Render(text, "dappfile.yml", env, new ProjectFiles(dir, dir)));
        Assert.Equal(match.Groups["file"].Value, e.Location.File);
        Assert.Equal(int.Parse(match.Groups["line"].Value), e.Location.Line);
        Assert.Contains(match.Groups["word"].Value, e.Message);
        Assert.StartsWith($"{e.Location.File}:{e.Location.Line}:{e.Location.Column}: ", e.Message);
    }

    [Fact]
    public void A_file_Files_Get_cannot_read_warns_and_gives_nothing()
    {
        var (text, env, dir) = Load("env-and-files");
        var warnings = new List<string>();
        DappfileTemplate.Render(text, "dappfile.yml", env, new ProjectFiles(dir, dir), warnings.Add);
        Assert.Contains(warnings, w => w.StartsWith(".Files.Get \"data/none.txt\": no such file"));
    }

    [GeneratedRegex(@"^(?<file>[^:\s]+):(?<line>\d+) (?<word>.+)$")]
    private static partial Regex ExpectedError();
}
