using System.Globalization;
using System.Text.Json;

namespace Dapp.Bench;

/// <summary>
/// <c>--plan</c>: what <c>dapp dimg plan</c> costs on the bundled example against a no-op build, in distributed mode
/// (REPO the stages cache), both built and measured through the entry point users run: wall time, registry requests by
/// kind (their --report), engine writes (the engine's image and container events while each ran); then a plan after one
/// command changed (which reads the earlier build); and the size of the labels a stage records of its inputs.
/// </summary>
public static class Plan
{
    public static async Task<int> RunAsync(string root, Tools tools, int runs, string registry, string? output)
    {
        var work = Directory.CreateTempSubdirectory("dapp-bench-plan-").FullName;
        var project = "bench-plan";
        var repo = $"{registry}/bench/plan-{DateTime.UtcNow:yyyyMMddHHmmss}";
        var measured = new Measurements();
        var requests = new Dictionary<string, JsonElement>();
        try
        {
            CopyDirectory(Path.Combine(root, "examples"), Path.Combine(work, "examples"));
            foreach (var args in new[] { new[] { "init", "-q" }, ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@dapp", "commit", "-qm", "example"] })
                await tools.MustAsync(Tools.RunAsync("git", args, work, []), "git " + args[0]);
            var dir = Path.Combine(work, "examples");
            Task<Run> Dapp(params string[] args) => tools.MustAsync(tools.DappAsync(tools.EngineA, dir, [.. args, "--name", project, "--quiet"]), "dapp " + string.Join(' ', args));
            await Dapp("dimg", "build", "--stages-storage", repo);

            var labels = await LabelSizesAsync(tools, project);
            Console.WriteLine($"labels per stage ({labels.Count} stages): dapp-stage-inputs + dapp-stage-of {labels.Min()}..{labels.Max()} bytes, median {labels.Order().ElementAt(labels.Count / 2)}");

            for (int run = 0; run <= runs; run++)
            {
                // Each goes first in every other run; run 0 warms up, untimed.
                var order = run % 2 == 0 ? new[] { "build", "plan" } : ["plan", "build"];
                var timed = new Dictionary<string, (Run Run, int Writes, JsonElement Requests)>();
                foreach (var command in order)
                {
                    var report = Path.Combine(work, $"{command}.json");
                    var since = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
                    var ran = await Dapp("dimg", command, "--stages-storage", repo, "--report", report);
                    var writes = await EngineWritesAsync(tools, since);
                    timed[command] = (ran, writes, JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("totals").GetProperty("registry_requests").Clone());
                }
                if (run == 0) continue;
                Console.WriteLine($"run {run}/{runs}");
                measured.Record("no-op build (distributed)", timed["build"].Run.Elapsed.TotalSeconds);
                measured.Record("plan (distributed, nothing to build)", timed["plan"].Run.Elapsed.TotalSeconds);
                measured.Record("engine writes during plan", timed["plan"].Writes, "events");
                requests["no-op build"] = timed["build"].Requests;
                requests["plan"] = timed["plan"].Requests;
            }

            // One command changed: the plan reads the earlier build (local engine and REPO's dimg tags: none here).
            var dappfile = Path.Combine(dir, "dappfile.yml");
            File.WriteAllText(dappfile, File.ReadAllText(dappfile).Replace("  - chmod +x /app/run.sh", "  - chmod 755 /app/run.sh"));
            for (int run = 1; run <= runs; run++)
            {
                var report = Path.Combine(work, "changed.json");
                var since = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
                var ran = await Dapp("dimg", "plan", "--stages-storage", repo, "--report", report);
                measured.Record("plan (distributed, one command changed)", ran.Elapsed.TotalSeconds);
                measured.Record("engine writes during that plan", await EngineWritesAsync(tools, since), "events");
                requests["plan, one command changed"] = JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("totals").GetProperty("registry_requests").Clone();
            }
            foreach (var (what, counts) in requests) Console.WriteLine($"registry requests, {what}: {counts}");
            var medians = measured.Medians();
            medians["label bytes per stage, max"] = labels.Max();
            medians["label bytes per stage, median"] = labels.Order().ElementAt(labels.Count / 2);
            var ratios = new Dictionary<string, double>
            {
                ["plan / no-op build, time (target <= 1.0)"] = medians["plan (distributed, nothing to build)"] / medians["no-op build (distributed)"],
                ["plan / no-op build, registry requests (target <= 1.0)"] = requests["plan"].GetProperty("total").GetDouble() / requests["no-op build"].GetProperty("total").GetDouble(),
            };
            return await Report.WriteAsync(root, "plan", runs, medians, ratios, new { measured.Values, requests }, output);
        }
        finally
        {
            await tools.DappAsync(tools.EngineA, Path.Combine(work, "examples"), "dimg", "stages", "flush", "local", "--name", project, "--quiet");
            Directory.Delete(work, true);
        }
    }

    /// <summary>The bytes of the two labels each of the project's stage images carries for explanations.</summary>
    private static async Task<List<int>> LabelSizesAsync(Tools tools, string project)
    {
        var names = (await tools.MustAsync(tools.DockerAsync(tools.EngineA, "images", "--format", "{{.Repository}}:{{.Tag}}", $"dimgstage-{project}"), "images"))
            .Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var sizes = new List<int>();
        foreach (var name in names)
        {
            var labels = await tools.MustAsync(tools.DockerAsync(tools.EngineA, "image", "inspect", "--format", "{{json .Config.Labels}}", name), "inspect");
            var json = JsonDocument.Parse(labels.Stdout).RootElement;
            sizes.Add(new[] { "dapp-stage-inputs", "dapp-stage-of" }.Sum(k => json.TryGetProperty(k, out var v) ? k.Length + System.Text.Encoding.UTF8.GetByteCount(v.GetString()!) : 0));
        }
        return sizes;
    }

    /// <summary>Image and container events of the engine since a time (a plan must make none).</summary>
    private static async Task<int> EngineWritesAsync(Tools tools, double since)
    {
        var until = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 + 0.5).ToString("0.000", CultureInfo.InvariantCulture);
        var events = await tools.MustAsync(tools.DockerAsync(tools.EngineA, "events", "--since", since.ToString("0.000", CultureInfo.InvariantCulture), "--until", until,
            "--filter", "type=image", "--filter", "type=container", "--format", "{{.Type}} {{.Action}}"), "docker events");
        return events.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
