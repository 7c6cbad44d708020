using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Dapp.Bench;

/// <summary>
/// <c>--monorepo</c>: git at monorepo scale. A repository generated with <c>git fast-import</c>: 100,000 files in
/// 5,000 directories, 10,000 commits (the first adds every file, each later one changes 3). A dimg adds the whole tree
/// with a stageDependencies glob. Measured through scripts/dapp, whole processes, with their peak memory: the cold
/// build and its g_a_archive stage against <c>git archive HEAD | docker import -</c>; a no-op build (signatures, every
/// stage found); a build after a commit changing 10 files (g_a_latest_patch).
/// </summary>
public static class Monorepo
{
    private const int Directories = 5_000;
    private const int FilesPerDirectory = 20;
    private const int Commits = 10_000;

    public static async Task<int> RunAsync(string root, Tools tools, string dapp, string docker, int runs, string? output)
    {
        var work = Directory.CreateTempSubdirectory("dapp-bench-monorepo-").FullName;
        var measured = new Measurements();
        var project = "bench-monorepo";
        var env = new Dictionary<string, string> { ["DOCKER_HOST"] = tools.EngineA, ["NO_COLOR"] = "1" };
        async Task<(Run Run, double PeakMiB)> DappAsync(params string[] args)
        {
            var run = await Tools.RunAsync("/usr/bin/time", ["-f", "peak-rss-kb %M", dapp, .. args, "--name", project], work, env);
            if (run.ExitCode != 0) throw new InvalidOperationException($"dapp {string.Join(' ', args)} failed ({run.ExitCode}): {run.Stderr}{run.Stdout}");
            var kb = run.Stderr.Split('\n').Last(l => l.StartsWith("peak-rss-kb ", StringComparison.Ordinal)).Split(' ')[1];
            return (run, double.Parse(kb, CultureInfo.InvariantCulture) / 1024);
        }
        static double BuiltIn(Run run, string stage) =>
            run.Stdout.Split('\n').Where(l => l.Contains($" {stage} ") && l.Contains(" built in ")).Select(l =>
                double.Parse(l.Split(" built in ")[1].Split(' ')[0], CultureInfo.InvariantCulture)).DefaultIfEmpty(double.NaN).Single();
        try
        {
            var clock = Stopwatch.StartNew();
            await GenerateAsync(work);
            Console.WriteLine($"generated {Directories * FilesPerDirectory:N0} files in {Directories:N0} directories, {Commits:N0} commits in {clock.Elapsed.TotalSeconds:0.0} s");
            await File.WriteAllTextAsync(Path.Combine(work, "dappfile.yml"), """
                dimg: mono
                from: dapp-examples/busybox:1.35
                git:
                - add: /
                  to: /src
                  stageDependencies:
                    install: ['d0001/**']
                shell:
                  install: ls /src/d0001 > /dev/null
                  setup: 'true'
                """);
            // Whatever an earlier invocation left (the same files, the same signatures) would be found, not built.
            await tools.DappAsync(tools.EngineA, work, "dimg", "stages", "flush", "local", "--name", project, "--quiet");
            for (int run = 1; run <= runs; run++)
            {
                Console.WriteLine($"run {run}/{runs}");
                // Both write ~100,000 files through the engine, and this machine's disk is slow for minutes after
                // 100,000 files are deleted (the same import: 6 s after nothing was deleted, 35-41 s right after, 24 s
                // 45 s after). So nothing is deleted until the end: each run after the first starts with a commit
                // asking for a new archive ([dapp reset]) whose files differ, a new layer for both. They take turns
                // going first (the second pays for the first's writeback), and the ratio is taken within each run.
                if (run > 1) await CommitAsync(work, run, $"[dapp reset] round {run}");
                async Task<double> ImportAsync()
                {
                    await SyncAsync();
                    var pipe = await Tools.RunAsync("bash", ["-c", $"git archive HEAD | {docker} -H {tools.EngineA} import - bench-monorepo-import:{run} > /dev/null"], work, []);
                    if (pipe.ExitCode != 0) throw new InvalidOperationException($"git archive | docker import failed: {pipe.Stderr}");
                    return pipe.Elapsed.TotalSeconds;
                }
                async Task<(Run Run, double PeakMiB)> ColdAsync()
                {
                    await SyncAsync();
                    return await DappAsync("dimg", "build", "--time");
                }
                double import;
                (Run Run, double PeakMiB) coldBuild;
                if (run % 2 == 1)
                {
                    import = await ImportAsync();
                    coldBuild = await ColdAsync();
                }
                else
                {
                    coldBuild = await ColdAsync();
                    import = await ImportAsync();
                }
                var (cold, coldPeak) = coldBuild;
                var archive = BuiltIn(cold, "g_a_archive");
                measured.Record("git archive HEAD | docker import -", import);
                measured.Record("cold build", cold.Elapsed.TotalSeconds);
                measured.Record("  g_a_archive stage", archive);
                measured.Record("  g_a_archive / import, within the run", archive / import, "x");
                measured.Record("  peak memory, cold build", coldPeak, "MiB");

                // The builds after it measure dapp, not the disk writing back the 100,000 files before them.
                await SyncAsync();
                var (noop, noopPeak) = await DappAsync("dimg", "build");
                if (noop.Stdout.Contains("[BUILD]")) throw new InvalidOperationException("the no-op build built something:\n" + noop.Stdout);
                measured.Record("no-op build", noop.Elapsed.TotalSeconds);
                measured.Record("  peak memory, no-op build", noopPeak, "MiB");

                await CommitAsync(work, run, $"ten files, round {run}");
                await SyncAsync();
                var (patch, patchPeak) = await DappAsync("dimg", "build", "--time");
                measured.Record("build after 10 files changed", patch.Elapsed.TotalSeconds);
                measured.Record("  g_a_latest_patch stage", BuiltIn(patch, "g_a_latest_patch"));
                measured.Record("  peak memory, patch build", patchPeak, "MiB");
            }
        }
        finally
        {
            await tools.DappAsync(tools.EngineA, work, "dimg", "stages", "flush", "local", "--name", project, "--quiet");
            await tools.DockerAsync(tools.EngineA, ["rmi", "-f", .. Enumerable.Range(1, runs).Select(r => $"bench-monorepo-import:{r}")]);
            Directory.Delete(work, true);
        }
        var medians = measured.Medians();
        var ratios = new Dictionary<string, double>
        {
            ["g_a_archive / git archive | docker import, median of the runs' ratios (target <= 1.3)"] = medians["  g_a_archive / import, within the run"],
            ["no-op build, s (target < 1.5)"] = medians["no-op build"],
            ["build after 10 files changed, s (target < 2)"] = medians["build after 10 files changed"],
            ["peak memory, MiB (target < 500)"] = new[] { "  peak memory, cold build", "  peak memory, no-op build", "  peak memory, patch build" }.Max(k => medians[k]),
        };
        return await Report.WriteAsync(root, "monorepo", runs, medians, ratios, measured.Values, output);
    }

    /// <summary>The repository, through git fast-import: one commit adding every file, then commits of 3 changed files each.</summary>
    private static async Task GenerateAsync(string dir)
    {
        await MustAsync(Tools.RunAsync("git", ["init", "-q", "-b", "master", dir], null, []), "git init");
        await FastImportAsync(dir, async input =>
        {
            var random = new Random(26);
            var time = 1_700_000_000L;
            for (int commit = 0; commit < Commits; commit++)
            {
                var sb = new StringBuilder();
                var message = commit == 0 ? "all files" : $"change {commit}";
                sb.Append($"commit refs/heads/master\ncommitter Bench <bench@example.com> {time + commit} +0000\ndata {Encoding.UTF8.GetByteCount(message)}\n{message}\n");
                var files = commit == 0
                    ? Enumerable.Range(0, Directories * FilesPerDirectory)
                    : Enumerable.Range(0, 3).Select(_ => random.Next(Directories * FilesPerDirectory));
                foreach (var file in files) sb.Append(Modify(file, commit));
                await input.WriteAsync(sb.ToString());
            }
        });
    }

    private static string Modify(int file, int commit)
    {
        var content = $"file {file} of the monorepo, version {commit}\n{new string('x', 40 + file % 200)}\n";
        return $"M 100644 inline d{file / FilesPerDirectory:0000}/f{file % FilesPerDirectory:00}.txt\ndata {Encoding.UTF8.GetByteCount(content)}\n{content}\n";
    }

    /// <summary>A commit changing 10 files on top of the current one (each round's own 10, twice in a round with another message).</summary>
    private static Task CommitAsync(string dir, int round, string message) =>
        FastImportAsync(dir, async input =>
        {
            var sb = new StringBuilder($"commit refs/heads/master\ncommitter Bench <bench@example.com> {1_800_000_000L + round} +0000\ndata {message.Length}\n{message}\nfrom refs/heads/master^0\n");
            for (int i = 0; i < 10; i++) sb.Append(Modify(i * 7919 + round, Commits + round + message.Length));
            await input.WriteAsync(sb.ToString());
        });

    /// <summary>Runs git fast-import in the repository on what <paramref name="write"/> writes.</summary>
    private static async Task FastImportAsync(string dir, Func<TextWriter, Task> write)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = dir, RedirectStandardInput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "fast-import", "--quiet" }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        await using (var input = process.StandardInput) await write(input);
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"git fast-import failed: {await errors}");
    }

    private static Task SyncAsync() => MustAsync(Tools.RunAsync("sync", [], null, []), "sync");

    private static async Task MustAsync(Task<Run> run, string what)
    {
        var result = await run;
        if (result.ExitCode != 0) throw new InvalidOperationException($"{what} failed: {result.Stderr}");
    }
}
