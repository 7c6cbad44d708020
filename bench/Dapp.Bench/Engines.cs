namespace Dapp.Bench;

/// <summary>
/// <c>--engines</c>: the bundled example on each engine dapp supports, through the entry point users run: a cold build
/// (a project name of its own per run: no stage of it in the engine; the base image there), and a no-op distributed
/// bp (REPO the stages cache, everything published by an earlier bp on the same engine). Docker (engine A) against
/// Podman's API service, rootful and rootless (<c>scripts/services up --podman --podman-rootless</c>).
/// </summary>
public static class Engines
{
    private static readonly (string Name, string Host)[] All =
    [
        ("docker", "unix:///var/run/docker.sock"),
        ("podman", "unix:///tmp/dapp-services/podman.sock"),
        ("podman-rootless", "unix:///tmp/dapp-services/podman-rootless/podman.sock"),
    ];

    public static async Task<int> RunAsync(string root, Tools tools, int runs, string registry, string? output)
    {
        var work = Directory.CreateTempSubdirectory("dapp-bench-engines-").FullName;
        var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss");
        var measured = new Measurements();
        var used = new List<(string Host, string Project)>();
        try
        {
            Directory.CreateDirectory(Path.Combine(work, "examples"));
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "examples"), "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(work, "examples", Path.GetRelativePath(Path.Combine(root, "examples"), file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
            foreach (var args in new[] { new[] { "init", "-q" }, ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@dapp", "commit", "-qm", "example"] })
                await tools.MustAsync(Tools.RunAsync("git", args, work, []), "git " + args[0]);
            var dir = Path.Combine(work, "examples");
            Task<Run> Dapp(string host, string project, params string[] args)
            {
                lock (used) used.Add((host, project));
                return tools.MustAsync(tools.DappAsync(host, dir, [.. args, "--name", project, "--quiet"]), $"dapp {string.Join(' ', args)} on {host}");
            }

            foreach (var (name, host) in All)
            {
                var repo = $"{registry}/bench/engines-{name}-{stamp}";
                await Dapp(host, $"bench-engines-{name}", "dimg", "bp", "--stages-storage", repo, repo);
                for (int run = 0; run <= runs; run++)
                {
                    // Run 0 warms up (the engine's caches, the entry point), untimed.
                    var cold = await Dapp(host, $"bench-engines-{name}-cold{run}", "dimg", "build");
                    var noop = await Dapp(host, $"bench-engines-{name}", "dimg", "bp", "--stages-storage", repo, repo);
                    if (run == 0) continue;
                    measured.Record($"cold build, {name}", cold.Elapsed.TotalSeconds);
                    measured.Record($"no-op distributed bp, {name}", noop.Elapsed.TotalSeconds);
                }
            }
            var medians = measured.Medians();
            var ratios = new Dictionary<string, double>();
            foreach (var podman in new[] { "podman", "podman-rootless" })
            {
                ratios[$"cold build, {podman} / docker"] = medians[$"cold build, {podman}"] / medians["cold build, docker"];
                ratios[$"no-op distributed bp, {podman} / docker"] = medians[$"no-op distributed bp, {podman}"] / medians["no-op distributed bp, docker"];
            }
            return await Report.WriteAsync(root, "engines", runs, medians, ratios, new { measured.Values }, output);
        }
        finally
        {
            foreach (var (host, project) in used.Distinct())
                await tools.DappAsync(host, Path.Combine(work, "examples"), "dimg", "stages", "flush", "local", "--name", project, "--quiet");
            Directory.Delete(work, true);
        }
    }
}
