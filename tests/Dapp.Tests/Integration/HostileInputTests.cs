using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Dapp.Tests.Integration;

/// <summary>
/// The hostile-input corpus (docs/reliability.md): dappfiles and command lines a hostile merge request or a careless
/// user could bring, through the CLI. Each one exits 1 with a message that names the place (file:line:col) or the
/// option, prints no stack trace, ends within 5 s and stays under 500 MB of resident memory (measured: the peak of
/// VmHWM while it ran, with the managed heap capped at 500 MB so that a runaway allocation fails the case too).
/// </summary>
public partial class HostileInputTests
{
    private const string From = "from: dapp-examples/busybox:1.35";
    private const long MemoryLimit = 500L << 20;
    /// <summary>
    /// The bound on the work a refusal takes, as CPU time: the suite runs other tests at once on 2 cores, so the wall
    /// time of the same work varies with the load (seen: 2.2 s idle, 5.3 s in CI for 2,000,000 template steps).
    /// </summary>
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(5);

    /// <summary>What catches a process that waits instead of working (a read that never ends uses no CPU).</summary>
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(20);

    /// <summary>A dappfile case: its text, what else the project holds, where the error must point and a word it must say.</summary>
    public sealed record DappfileCase(string Name, string Text, string Place, string Says, Action<string>? Setup = null)
    {
        public override string ToString() => Name;
    }

    private static string Dimg(string rest) => $"dimg: a\n{From}\n{rest}";

    private static string Shell(string command) => Dimg($"shell:\n  install: {command}\n");

    public static TheoryData<DappfileCase> Dappfiles()
    {
        var chain = new StringBuilder($"dimg: d0\n{From}\n");
        for (int i = 1; i <= 102; i++) chain.Append($"---\ndimg: d{i}\nfromDimg: d{i - 1}\n");
        var laughs = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i <= 9; i++) laughs.Append($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        var deepMapping = new StringBuilder(Dimg("shell:\n  install:\n"));
        for (int i = 0; i < 300; i++) deepMapping.Append(new string(' ', 2 * i + 4)).Append("k:\n");

        return new TheoryData<DappfileCase>
        {
            // Files outside the project: by path, by symlink, by device.
            new("Files.Get climbs out", Shell("{{ .Files.Get \"../../../../etc/hostname\" | quote }}"), "dappfile.yml:4:", "outside the project"),
            new("Files.Get /etc/shadow", Shell("{{ .Files.Get \"/etc/shadow\" | quote }}"), "dappfile.yml:4:", "/etc/shadow is outside the project"),
            new("Files.Get /etc/passwd", Shell("{{ .Files.Get \"/etc/passwd\" | quote }}"), "dappfile.yml:4:", "outside the project"),
            new("Files.Get /dev/zero", Shell("{{ .Files.Get \"/dev/zero\" | quote }}"), "dappfile.yml:4:", "outside the project"),
            new("Files.Get /proc/self/environ", Shell("{{ .Files.Get \"/proc/self/environ\" | quote }}"), "dappfile.yml:4:", "outside the project"),
            new("Files.Get through a file symlink", Shell("{{ .Files.Get \"host\" | quote }}"), "dappfile.yml:4:", "through a symlink",
                dir => File.CreateSymbolicLink(Path.Combine(dir, "host"), "/etc/hostname")),
            new("Files.Get through a dir symlink", Shell("{{ .Files.Get \"root/etc/hostname\" | quote }}"), "dappfile.yml:4:", "through a symlink",
                dir => Directory.CreateSymbolicLink(Path.Combine(dir, "root"), "/")),
            new("Files.Get through a relative symlink", Shell("{{ .Files.Get \"up/etc/hostname\" | quote }}"), "dappfile.yml:4:", "through a symlink",
                dir => Directory.CreateSymbolicLink(Path.Combine(dir, "up"), "../../../../../../../../")),
            new("Files.Get of a symlink to /dev/zero", Shell("{{ .Files.Get \"zero\" | quote }}"), "dappfile.yml:4:", "outside the project",
                dir => File.CreateSymbolicLink(Path.Combine(dir, "zero"), "/dev/zero")),
            new("Files.Get of a file over 4 MiB", Shell("{{ .Files.Get \"big.txt\" | len }}"), "dappfile.yml:4:", "larger than the 4 MiB",
                dir => File.WriteAllBytes(Path.Combine(dir, "big.txt"), new byte[(4 << 20) + 10])),
            new("Files.Get with a NUL", Shell("{{ .Files.Get \"a\\x00b\" | quote }}"), "dappfile.yml:4:", "NUL"),
            new("a .dappfiles snippet linked out", Shell("{{ include \"x.tmpl\" . | quote }}"), @"\.dappfiles/x\.tmpl:1:1", "outside the project",
                dir => { Directory.CreateDirectory(Path.Combine(dir, ".dappfiles")); File.CreateSymbolicLink(Path.Combine(dir, ".dappfiles", "x.tmpl"), "/etc/hostname"); }),
            new("a dappfile linked out", "", "dappfile.yml:1:1", "outside the project",
                dir => { File.Delete(Path.Combine(dir, "dappfile.yml")); File.CreateSymbolicLink(Path.Combine(dir, "dappfile.yml"), "/etc/hostname"); }),
            new("a dappfile linked to /dev/zero", "", "dappfile.yml:1:1", "outside the project",
                dir => { File.Delete(Path.Combine(dir, "dappfile.yml")); File.CreateSymbolicLink(Path.Combine(dir, "dappfile.yml"), "/dev/zero"); }),
            new("a dappfile that is a FIFO", "", "dappfile.yml:1:1", "no dimg defined",
                dir => { File.Delete(Path.Combine(dir, "dappfile.yml")); MakeFifo(Path.Combine(dir, "dappfile.yml")); }),

            // Values that contain themselves, or nest without end.
            new("toJson of a dict holding itself", Shell("{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ toJson $d }}"), "dappfile.yml:4:", "contains itself"),
            new("toYaml of a dict holding itself", Shell("{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ toYaml $d }}"), "dappfile.yml:4:", "contains itself"),
            new("printf %v of a dict holding itself", Shell("{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ printf \"%v\" $d }}"), "dappfile.yml:4:", "contains itself"),
            new("print of a dict holding itself", Shell("{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ $d }}"), "dappfile.yml:4:", "contains itself"),
            new("a dict holding itself through a list", Shell("{{ $d := dict }}{{ $_ := set $d \"l\" (list 1 $d) }}{{ toJson $d }}"), "dappfile.yml:4:", "contains itself"),
            new("a list nested 2,000 deep", Shell("{{ $x := list }}{{ range until 2000 }}{{ $x = list $x }}{{ end }}{{ toJson $x }}"), "dappfile.yml:4:", "nests deeper than 1000"),
            new("a template calling itself", Dimg("{{ define \"a\" }}{{ template \"a\" }}{{ end }}{{ template \"a\" }}\n"), "dappfile.yml:3:", "nest deeper than 1000"),
            new("include calling itself", Dimg("{{ define \"a\" }}{{ include \"a\" . }}{{ end }}{{ include \"a\" . }}\n"), "dappfile.yml:3:", "nest deeper than 1000"),
            new("a template calling itself twice", Dimg("{{ define \"a\" }}{{ if lt (len .) 40 }}{{ template \"a\" (append . 1) }}{{ template \"a\" (append . 1) }}{{ end }}{{ end }}{{ template \"a\" (list) }}\n"),
                "dappfile.yml:3:", "more than 2000000 steps"),
            new("50,000 nested ifs", Dimg(string.Concat(Enumerable.Repeat("{{ if true }}", 50_000)) + string.Concat(Enumerable.Repeat("{{ end }}", 50_000)) + "\n"),
                "dappfile.yml:3:", "nest deeper than 1000"),
            new("40,000 parentheses", Dimg("x: {{ " + new string('(', 40_000) + "1" + new string(')', 40_000) + " }}\n"), "dappfile.yml:3:", "nest deeper than 1000"),
            new("50,000 else ifs", Dimg("{{ if false }}" + string.Concat(Enumerable.Repeat("{{ else if false }}", 50_000)) + "{{ end }}\n"), "dappfile.yml:3:", "nest deeper than 1000"),

            // Sizes and counts.
            new("until 100,000,000", Shell("{{ range until 100000000 }}{{ end }}"), "dappfile.yml:4:", "more than the 100000 a template list"),
            new("untilStep over 100,000,000", Shell("{{ untilStep 0 100000000 1 | len }}"), "dappfile.yml:4:", "untilStep"),
            new("seq 100,000,000", Shell("{{ seq 100000000 | len }}"), "dappfile.yml:4:", "seq"),
            new("repeat a billion", Shell("{{ repeat 1000000000 \"x\" | len }}"), "dappfile.yml:4:", "repeat: the result would be 1000000000 characters"),
            new("a string doubled in a loop", Shell("{{ $s := \"x\" }}{{ range until 64 }}{{ $s = print $s $s }}{{ end }}{{ len $s }}"), "dappfile.yml:4:", "4 MiB"),
            new("a string grown in a loop", Shell("{{ $s := \"\" }}{{ range until 100000 }}{{ $s = print $s \"0123456789\" }}{{ end }}{{ len $s }}"), "dappfile.yml:4:", "64 MiB of values"),
            new("range over a billion", Shell("{{ range 1000000000 }}{{ end }}"), "dappfile.yml:4:", "steps"),
            new("nested ranges", Shell("{{ range until 5000 }}{{ range until 5000 }}{{ end }}{{ end }}"), "dappfile.yml:4:", "steps"),
            new("a rendering over 4 MiB", Dimg("{{ range until 5 }}{{ repeat 1000000 \"x\" }}{{ end }}\n"), "dappfile.yml:3:", "the rendering is larger than 4 MiB"),
            new("printf with a huge width", Shell("{{ printf \"%999999999d\" 1 }}"), "dappfile.yml:4:", "printf"),
            new("printf with a huge precision", Shell("{{ printf \"%.999999999f\" 1.5 }}"), "dappfile.yml:4:", "printf"),
            new("indent a billion", Shell("{{ indent 1000000000 \"a\" }}"), "dappfile.yml:4:", "indent"),
            new("splitList into millions", Shell("{{ splitList \"\" (repeat 200000 \"x\") | len }}"), "dappfile.yml:4:", "splitList"),
            new("replace that grows", Shell("{{ replace \"x\" (repeat 100000 \"y\") (repeat 100 \"x\") | len }}"), "dappfile.yml:4:", "replace"),
            new("join of many references", Shell("{{ $s := repeat 1000000 \"x\" }}{{ join \",\" (list $s $s $s $s $s) | len }}"), "dappfile.yml:4:", "join"),
            new("cat of many references", Shell("{{ $s := repeat 1000000 \"x\" }}{{ cat $s $s $s $s $s | len }}"), "dappfile.yml:4:", "cat"),
            new("toJson of a large dict", Shell("{{ $d := dict }}{{ range until 50000 }}{{ $_ := set $d (toString .) (repeat 100 \"x\") }}{{ end }}{{ toJson $d | len }}"),
                "dappfile.yml:4:", "toJson"),
            new("fromYaml of a billion laughs", Shell("{{ fromYaml (.Files.Get \"laughs.yaml\") | len }}"), "dappfile.yml:4:", "expands to more than",
                dir => File.WriteAllText(Path.Combine(dir, "laughs.yaml"), laughs.ToString())),
            new("regexMatch that does not compile", Shell("{{ regexMatch \"[\" \"a\" }}"), "dappfile.yml:4:", "invalid regular expression"),
            new("regexReplaceAll that does not compile", Shell("{{ regexReplaceAll \"(\" \"a\" \"b\" }}"), "dappfile.yml:4:", "invalid regular expression"),
            new("a character that is none", Shell("{{ printf \"%c\" -1 }}"), "dappfile.yml:4:", "printf"),

            // YAML that explodes or nests.
            new("100,000 brackets", Dimg("shell:\n  install: " + new string('[', 100_000) + "\n"), "dappfile.yml:", "nests deeper than 200"),
            new("a mapping 300 deep", deepMapping.ToString(), "dappfile.yml:", "nests deeper than 200"),
            new("a billion laughs", laughs + "dimg: a\n" + From + "\n", "dappfile.yml:", "expands to more than"),

            // What dapp refused, or should have.
            new("from is a number", "dimg: a\nfrom: 123\n", "dappfile.yml:2:7", "the number 123"),
            new("from is a boolean", "dimg: a\nfrom: yes\n", "dappfile.yml:2:7", "the boolean"),
            new("an artifact named as a dimg", $"artifact: a\n{From}\n---\ndimg: a\n{From}\n", "dappfile.yml:1:11", "has the name of the dimg"),
            new("mount.to climbing to /etc", Dimg("mount:\n- to: /a/../../etc\n  from: tmp_dir\n"), "dappfile.yml:4:7", "must not contain '..'"),
            new("mount.fromPath climbing", Dimg("mount:\n- to: /cache\n  fromPath: /tmp/../etc\n"), "dappfile.yml:5:13", "must not contain '..'"),
            new("git.to climbing", Dimg("git:\n- to: /app/../../etc\n"), "dappfile.yml:4:7", "must not contain '..'"),
            new("import.add climbing", $"artifact: t\n{From}\n---\ndimg: a\n{From}\nimport:\n- artifact: t\n  add: /../../etc\n  after: install\n", "dappfile.yml:8:8", "must not contain '..'"),
            new("mount.to with a newline", Dimg("mount:\n- to: \"/a\\nb\"\n  from: tmp_dir\n"), "dappfile.yml:4:7", "must not contain control characters (a newline)"),
            new("an ENV key with '=' and a space", Dimg("docker:\n  ENV:\n    \"A=B C\": x\n"), "dappfile.yml:5:5", "is not a variable name"),
            new("an empty ENV key", Dimg("docker:\n  ENV:\n    \"\": x\n"), "dappfile.yml:5:5", "is not a variable name"),
            new("content after a document end marker", $"dimg: a\n{From}\n...\nshell:\n  install: x\n", "dappfile.yml:4:1", "document end marker"),
            new("a fromDimg chain of 102", chain.ToString(), "dappfile.yml:", "chain of more than 100"),
            new("fail in a template", Shell("{{ fail \"hostile\" }}"), "dappfile.yml:4:", "hostile"),
        };
    }

    [Theory]
    [MemberData(nameof(Dappfiles))]
    public async Task A_hostile_dappfile_is_refused_in_bounded_time_and_memory(DappfileCase c)
    {
        var dir = Directory.CreateTempSubdirectory("dapp-hostile-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "dappfile.yml"), c.Text);
            c.Setup?.Invoke(dir);
            var run = await RunMeasuredAsync(dir, new Dictionary<string, string>(), "dimg", "build", "--name", "hostile");
            AssertRefused(run, c.Name, c.Says);
            Assert.Matches(new Regex($"^Error: {c.Place}", RegexOptions.Multiline), run.Result.Stderr);
            // Nothing of the host's files reaches the output.
            Assert.DoesNotContain(File.ReadAllText("/etc/hostname").Trim(), run.Result.Stdout + StripPaths(run.Result.Stderr));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>The host name may be part of a temp path in the message; the check is about contents, so paths go.</summary>
    private static string StripPaths(string text) => PathPattern().Replace(text, "");

    [GeneratedRegex(@"/[^\s:]+")]
    private static partial Regex PathPattern();

    /// <summary>(arguments, environment, what the message must say): each exits 1 naming the option.</summary>
    public static TheoryData<string[], string> CommandLines()
    {
        var data = new TheoryData<string[], string>();
        const string repo = "127.0.0.1:5000/hostile";
        string[] bad = ["abc", "-1", "99999999999", "1.5", "", "0x10", "1e3"];
        foreach (var value in bad)
        {
            data.Add(["dimg", "build", "--lock-timeout", value], "--lock-timeout");
            data.Add(["dimg", "stages", "pull", "--parallel", value, repo], "--parallel");
            data.Add(["dimg", "stages", "push", "--parallel", value, repo], "--parallel");
        }
        foreach (var value in new[] { "abc", "-1", "99999999999" })
        {
            data.Add(["dimg", "bp", "--lock-timeout", value, repo], "--lock-timeout");
            data.Add(["dimg", "push", "--lock-timeout", value, repo], "--lock-timeout");
            data.Add(["dimg", "spush", "--lock-timeout", value, repo], "--lock-timeout");
            data.Add(["dimg", "cleanup", "--lock-timeout", value], "--lock-timeout");
            data.Add(["dimg", "flush", "repo", "--lock-timeout", value, repo], "--lock-timeout");
            data.Add(["dimg", "stages", "flush", "repo", "--lock-timeout", value, repo], "--lock-timeout");
            data.Add(["dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--lock-timeout", value, repo], "--lock-timeout");
            data.Add(["dimg", "stages", "cleanup", "local", "--improper-cache-version", "--lock-timeout", value], "--lock-timeout");
            data.Add(["dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--keep-younger-than", value, repo], "--keep-younger-than");
            data.Add(["dimg", "stages", "cleanup", "local", "--improper-cache-version", "--keep-younger-than", value + "d"], "--keep-younger-than");
            data.Add(["dimg", "cleanup", "repo", "--keep-younger-than", value + "s", repo], "--keep-younger-than");
        }
        data.Add(["dimg", "stages", "pull", "--parallel", "0", repo], "--parallel");
        data.Add(["dimg", "stages", "pull", "--parallel", "65", repo], "--parallel");
        data.Add(["dimg", "stages", "pull", "--transfer", "ftp", repo], "--transfer");
        data.Add(["dimg", "build", "--color", "purple"], "--color");
        data.Add(["dimg", "build", "--introspect-stage", "nope"], "--introspect-stage");
        data.Add(["dimg", "build", "--dev"], "--dev");
        data.Add(["dimg", "build", "--bogus"], "--bogus");
        data.Add(["dimg", "stages", "pull", "--bogus", repo], "--bogus");
        data.Add(["dimg", "build", "--name", ""], "--name");
        data.Add(["dimg", "build", "--name", "   "], "--name");
        data.Add(["dimg", "build", "--dir", "/nonexistent/dir"], "--dir");
        data.Add(["dimg", "build", "--ssh-key", "/nonexistent/key"], "--ssh-key");
        data.Add(["dimg", "stages", "pull", "--insecure-registry", "http://x/y", repo], "--insecure-registry");
        data.Add(["dimg", "build", "--stages-storage", "Bad_Repo"], "--stages-storage");
        data.Add(["dimg", "stages", "pull", "Bad_Repo"], "Invalid REPO");
        data.Add(["dimg", "stages", "pull", "127.0.0.1:99999/x"], "port");
        data.Add(["dimg", "push", "--tag-plain", "bad:tag", repo], "--tag-plain");
        data.Add(["dimg", "stage", "image", "--stage", "nope"], "--stage");
        data.Add(["dimg", "mrproper"], "--all");
        data.Add(["dimg", "bogus"], "'bogus'");
        return data;
    }

    [Theory]
    [MemberData(nameof(CommandLines))]
    public async Task A_bad_command_line_is_one_clear_error(string[] args, string says)
    {
        var dir = Directory.CreateTempSubdirectory("dapp-hostile-cli-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "dappfile.yml"), $"dimg: a\n{From}\n");
            var run = await RunMeasuredAsync(dir, new Dictionary<string, string>(), args);
            AssertRefused(run, string.Join(' ', args), says);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task A_dapp_home_that_is_a_file_is_refused()
    {
        var dir = Directory.CreateTempSubdirectory("dapp-hostile-home-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "dappfile.yml"), $"dimg: a\n{From}\n");
            File.WriteAllText(Path.Combine(dir, "home"), "");
            var run = await RunMeasuredAsync(dir, new Dictionary<string, string> { ["DAPP_HOME"] = Path.Combine(dir, "home") }, "dimg", "build");
            AssertRefused(run, "DAPP_HOME", "DAPP_HOME");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void AssertRefused((CliResult Result, TimeSpan Elapsed, TimeSpan Cpu, long PeakBytes) run, string name, string says)
    {
        var (result, elapsed, cpu, peak) = run;
        Assert.True(result.ExitCode == 1, $"{name}: exit {result.ExitCode}: {result.Stderr}");
        Assert.Contains(says, result.Stderr);
        Assert.DoesNotContain("Internal error", result.Stderr);
        Assert.DoesNotContain("Unhandled exception", result.Stderr);
        Assert.DoesNotMatch(new Regex(@"^\s+at \S+\(", RegexOptions.Multiline), result.Stderr);
        Assert.True(result.Stderr.Length < 3000, $"{name}: the error is {result.Stderr.Length} characters long");
        Assert.True(cpu < TimeLimit, $"{name}: took {cpu.TotalSeconds:0.0} s of CPU");
        Assert.True(elapsed < WaitLimit, $"{name}: took {elapsed.TotalSeconds:0.0} s");
        Assert.True(peak < MemoryLimit, $"{name}: {peak >> 20} MB resident at the peak");
    }

    /// <summary>Runs dapp, sampling its peak resident memory (VmHWM) until it exits.</summary>
    private static async Task<(CliResult Result, TimeSpan Elapsed, TimeSpan Cpu, long PeakBytes)> RunMeasuredAsync(string dir, Dictionary<string, string> env, params string[] args)
    {
        env.TryAdd("DAPP_HOME", Path.Combine(dir, ".home"));
        // A runaway allocation fails as an OutOfMemoryException (an "Internal error") instead of taking the machine.
        env["DOTNET_GCHeapHardLimit"] = "0x1F400000";
        var clock = Stopwatch.StartNew();
        var process = DappCli.Start(dir, env, args);
        long peak = 0, ticks = 0;
        var status = $"/proc/{process.Id}/status";
        var stat = $"/proc/{process.Id}/stat";
        using var done = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                try
                {
                    foreach (var line in File.ReadLines(status))
                        if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                            peak = Math.Max(peak, long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024);
                    // utime and stime, in clock ticks: the fields after the command name, which ends the last ')'.
                    var fields = File.ReadAllText(stat);
                    var after = fields[(fields.LastIndexOf(')') + 2)..].Split(' ');
                    ticks = Math.Max(ticks, long.Parse(after[11]) + long.Parse(after[12]));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    break;
                }
                await Task.Delay(10);
            }
        });
        var result = await DappCli.FinishAsync(process);
        var elapsed = clock.Elapsed;
        done.Cancel();
        await sampler;
        // Linux's USER_HZ is 100 (sysconf(_SC_CLK_TCK)); the last 10 ms before the exit are not seen.
        return (result, elapsed, TimeSpan.FromMilliseconds(ticks * 10), peak);
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }
}
