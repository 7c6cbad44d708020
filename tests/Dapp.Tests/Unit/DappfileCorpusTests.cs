using System.Text;
using System.Text.RegularExpressions;
using Dapp.Tests.Integration;

namespace Dapp.Tests.Unit;

/// <summary>
/// The reliability corpus: malformed dappfiles run through the CLI as a user would (<c>dapp dimg build</c>). Each one
/// exits 1 with an error that names <c>dappfile.yml:LINE:COL</c>, and never prints a stack trace. No engine is needed:
/// the dappfile is refused before dapp connects to one.
/// </summary>
public class DappfileCorpusTests
{
    private const string From = "from: dapp-examples/busybox:1.35";

    /// <summary>(case, dappfile bytes, expected "LINE:COL", a word the message must contain).</summary>
    public static IEnumerable<object[]> Corpus()
    {
        object[] Case(string name, string text, string at, string says) => [name, Encoding.UTF8.GetBytes(text), at, says];
        yield return Case("yaml syntax", "dimg: a\nfrom: [busybox\n", "3:1", "invalid YAML");
        yield return Case("tab indentation", "dimg: a\n\tfrom: busybox\n", "2:1", "invalid YAML");
        yield return Case("unknown top-level key", $"dimg: a\n{From}\nfoo: 1\n", "3:1", "unknown key 'foo'");
        yield return Case("unknown shell key", $"dimg: a\n{From}\nshell:\n  instal: x\n", "4:3", "unknown key 'instal'");
        yield return Case("unknown docker key", $"dimg: a\n{From}\ndocker:\n  HEALTHCHECK: x\n", "4:3", "unknown key 'HEALTHCHECK'");
        yield return Case("unknown git key", $"dimg: a\n{From}\ngit:\n- to: /app\n  branchh: x\n", "5:3", "unknown key 'branchh'");
        yield return Case("unknown mount key", $"dimg: a\n{From}\nmount:\n- to: /x\n  from: tmp_dir\n  size: 1\n", "6:3", "unknown key 'size'");
        yield return Case("unknown import key", $"artifact: t\n{From}\n---\ndimg: a\n{From}\nimport:\n- artifact: t\n  add: /x\n  after: install\n  mode: 1\n", "10:3", "unknown key 'mode'");
        yield return Case("unknown stageDependencies key", $"dimg: a\n{From}\ngit:\n- to: /app\n  stageDependencies:\n    build: '*'\n", "6:5", "unknown key 'build'");
        yield return Case("shell is a list", $"dimg: a\n{From}\nshell: [a, b]\n", "3:8", "shell must be a mapping");
        yield return Case("git is a mapping", $"dimg: a\n{From}\ngit: {{to: /app}}\n", "3:6", "git must be a list");
        yield return Case("docker.ENV is a list", $"dimg: a\n{From}\ndocker:\n  ENV: [A=1]\n", "4:8", "docker.ENV must be a mapping");
        yield return Case("missing from", "dimg: a\nshell:\n  install: x\n", "1:1", "one of 'from'");
        yield return Case("duplicate dimg names", $"dimg: a\n{From}\n---\ndimg: a\n{From}\n", "4:7", "duplicate dimg name 'a'");
        yield return Case("duplicate key", $"dimg: a\n{From}\nfrom: alpine\n", "3:1", "duplicate key 'from'");
        yield return Case("unknown artifact", $"dimg: a\n{From}\nimport:\n- artifact: nope\n  add: /x\n  after: install\n", "4:13", "no artifact 'nope'");
        yield return Case("cyclic fromDimg", "dimg: a\nfromDimg: b\n---\ndimg: b\nfromDimg: a\n", "1:7", "circular dependency");
        yield return Case("unknown fromDimg", "dimg: a\nfromDimg: nope\n", "2:11", "no dimg 'nope'");
        yield return Case("bad mount source", $"dimg: a\n{From}\nmount:\n- to: /x\n  from: home_dir\n", "5:9", "mount.from must be tmp_dir or build_dir");
        yield return Case("mount to /", $"dimg: a\n{From}\nmount:\n- to: /\n  from: tmp_dir\n", "4:7", "must not be /");
        yield return Case("relative mount", $"dimg: a\n{From}\nmount:\n- to: x\n  from: tmp_dir\n", "4:7", "absolute path");
        yield return Case("mount path with a colon", $"dimg: a\n{From}\nmount:\n- to: /x:/y\n  fromPath: /tmp\n", "4:7", "must not contain ':'");
        yield return Case("invalid image name", "dimg: a\nfrom: Busybox:Latest\n", "2:7", "invalid image name");
        yield return Case("short digest", "dimg: a\nfrom: busybox@sha256:1234\n", "2:7", "invalid image name");
        yield return Case("huge from", "dimg: a\nfrom: " + new string('a', 300_000) + "\n", "2:7", "invalid image name");
        yield return Case("empty file", "", "1:1", "no dimg defined");
        yield return Case("comments only", "# nothing here\n---\n", "1:1", "no dimg defined");
        yield return ["binary garbage", new byte[] { (byte)'d', (byte)'i', (byte)'m', (byte)'g', 0xC3, 0x28, 0xFF, 0xFE, 0x00, 0x01 }, "1:5", "not valid UTF-8"];
        yield return Case("NUL byte", $"dimg: a\n{From}\nshell:\n  install: echo a\0b\n", "4:18", "NUL character");
        yield return ["5 MB file", Encoding.UTF8.GetBytes("dimg: a\n" + From + "\nshell:\n  install:\n" + string.Concat(Enumerable.Repeat("  - echo 0123456789012345678901234567890123456789\n", 110_000))), "1:1", "MiB"];
        yield return Case("unknown template function", $"dimg: a\n{From}\nshell:\n  install: echo {{{{ foo }}}}\n", "4:20", "function \"foo\" not defined");
        yield return Case("unterminated template", $"dimg: a\n{From}\nshell:\n  install: echo {{{{ env \"X\"\n", "4:17", "unclosed action");
        yield return Case("dimg name too long", $"dimg: {new string('a', 200)}\n{From}\n", "1:7", "longer than 128");
        yield return Case("invalid dimg name", $"dimg: My_App!\n{From}\n", "1:7", "invalid dimg name");
        yield return Case("stageDependencies value a mapping", $"dimg: a\n{From}\ngit:\n- to: /app\n  stageDependencies:\n    install: {{a: b}}\n", "6:14", "string or a list");
        yield return Case("hostile git owner", $"dimg: a\n{From}\ngit:\n- to: /app\n  owner: \"root /app; echo INJECTED > /inj; true\"\n", "5:10", "git.owner must be a user or group");
        yield return Case("hostile import group", $"artifact: t\n{From}\n---\ndimg: a\n{From}\nimport:\n- artifact: t\n  add: /x\n  after: install\n  group: \"$(reboot)\"\n", "10:10", "import.group must be a user or group");
        yield return Case("import before and after", $"artifact: t\n{From}\n---\ndimg: a\n{From}\nimport:\n- artifact: t\n  add: /x\n  before: install\n  after: setup\n", "10:10", "not both");
        yield return Case("git url without .git", $"dimg: a\n{From}\ngit:\n- url: https://example.com/repo\n  to: /app\n", "4:8", "must end with '.git'");
        yield return Case("nameless dimg among others", $"dimg:\n{From}\n---\ndimg: b\n{From}\n", "1:6", "nameless dimg");
        yield return Case("scalar document", "hello\n", "1:1", "must be a mapping");
        yield return Case("dimg and artifact in one document", $"dimg: a\nartifact: b\n{From}\n", "2:1", "either a dimg or an artifact");
        yield return Case("git.to missing", $"dimg: a\n{From}\ngit:\n- add: /src\n", "4:3", "git.to is required");
        yield return Case("docker in an artifact", $"artifact: a\n{From}\ndocker:\n  CMD: x\n", "3:1", "unknown key 'docker'");
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task A_malformed_dappfile_exits_1_naming_its_position_without_a_stack_trace(string name, byte[] dappfile, string at, string says)
    {
        var dir = Directory.CreateTempSubdirectory("dapp-corpus-").FullName;
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(dir, "dappfile.yml"), dappfile);
            var result = await DappCli.RunAsync(dir, new Dictionary<string, string> { ["DAPP_HOME"] = Path.Combine(dir, ".home") }, "dimg", "build", "--name", "corpus");
            Assert.True(result.ExitCode == 1, $"{name}: exit {result.ExitCode}: {result.Stderr}");
            Assert.Matches(new Regex($"^Error: dappfile\\.yml:{Regex.Escape(at)}: ", RegexOptions.Multiline), result.Stderr);
            Assert.Contains(says, result.Stderr);
            Assert.DoesNotContain("Internal error", result.Stderr);
            Assert.DoesNotMatch(new Regex(@"^\s+at \S+\(", RegexOptions.Multiline), result.Stderr);
            Assert.True(result.Stderr.Length < 2000, $"{name}: the error is {result.Stderr.Length} characters long");
            Assert.Empty(result.Stdout);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
