using System.Globalization;
using System.Text.Json;
using Dapp.Bench;

var options = Options.Parse(args);
var preset = options.Preset == "wide" ? Preset.Default : Preset.Named(options.Preset);
var root = FindRoot();
if (args.Contains("--startup")) return await Startup.RunAsync(root, options.Runs, options.Registry, options.Out);
// The entry point users run (README): scripts/dapp, which runs the AOT binary built once per source change.
var dapp = options.Dapp ?? Path.Combine(root, "scripts", "dapp");
var docker = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "docker")).First(File.Exists);
var tools = new Tools(dapp, docker, "unix:///var/run/docker.sock", options.EngineB);
var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss");
if (args.Contains("--distributed")) return await Distributed.RunAsync(root, tools, preset, options.Runs, options.Registry, options.Out);
if (args.Contains("--cleanup")) return await Cleanup.RunAsync(root, tools, options.Runs, options.Registry, options.Out);
if (args.Contains("--monorepo")) return await Monorepo.RunAsync(root, tools, dapp, docker, options.Runs, options.Out);
if (args.Contains("--engines")) return await Engines.RunAsync(root, tools, options.Runs, options.Registry, options.Out);
if (args.Contains("--plan")) return await Plan.RunAsync(root, tools, options.Runs, options.Registry, options.Out);
if (args.Contains("--stage-cost")) return await StageCost.RunAsync(root, tools, docker, options.Runs, options.Out);
if (options.Preset == "wide") return await Wide.RunAsync(root, tools, options.Runs, options.Out);
var project = $"bench-{preset.Name}";
var work = Directory.CreateTempSubdirectory("dapp-bench-").FullName;
var results = new Dictionary<string, List<double>>();

void Record(string method, TimeSpan elapsed)
{
    if (!results.TryGetValue(method, out var list)) results[method] = list = [];
    list.Add(elapsed.TotalSeconds);
    Console.WriteLine($"  {method,-22} {elapsed.TotalSeconds,8:0.000} s");
}

async Task BuildAsync(string cacheVersion)
{
    await File.WriteAllTextAsync(Path.Combine(work, "dappfile.yml"), ProjectGenerator.Dappfile(preset, cacheVersion));
    await tools.MustAsync(tools.DappAsync(tools.EngineA, work, "dimg", "build", "--name", project, "--quiet"), "build on engine A");
}

static List<string> Signatures(Run run, string state) =>
    run.Stdout.Split('\n').Where(l => l.TrimEnd().EndsWith(state)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^2]).Distinct().ToList();

try
{
    Console.WriteLine($"preset {preset.Name}: {preset.Dimgs} dimgs x {preset.StagesPerDimg} stages, {preset.BytesPerDataStage >> 10} KiB per data stage, {preset.Incompressible:P0} incompressible");
    var pullRepo = $"{options.Registry}/bench/{preset.Name}-{stamp}";
    await BuildAsync("pull-" + stamp);
    await tools.MustAsync(tools.DappAsync(tools.EngineA, work, "dimg", "stages", "push", pullRepo, "--name", project, "--quiet"), "stages push");

    await tools.ResetAsync(tools.EngineB);
    var plan = await tools.MustAsync(tools.DappAsync(tools.EngineB, work, "dimg", "stages", "pull", "--dry-run", "--all", pullRepo, "--name", project), "dry run");
    var allStages = Signatures(plan, "[PULL]");
    plan = await tools.MustAsync(tools.DappAsync(tools.EngineB, work, "dimg", "stages", "pull", "--dry-run", pullRepo, "--name", project), "dry run");
    var lastStages = Signatures(plan, "[PULL]");
    var localNames = lastStages.Select(s => $"dimgstage-{project}:{s}").ToList();
    var sizes = await tools.MustAsync(tools.DockerAsync(tools.EngineA, ["image", "inspect", "--format", "{{.Size}}", .. localNames]), "inspect");
    var unpacked = sizes.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Sum(long.Parse);
    var loadTar = Path.Combine(work, "last-stages.tar");
    await tools.MustAsync(tools.DockerAsync(tools.EngineA, ["save", "-o", loadTar, .. localNames]), "docker save");
    Console.WriteLine($"{lastStages.Count} last stages ({unpacked / 1e6:0.0} MB unpacked), {allStages.Count} stages in all; load tar {new FileInfo(loadTar).Length / 1e6:0.0} MB");
    // The bound of the other transfer path (our client streaming blobs into the engine's load API, several images at
    // once): the engine loading ready-made per-image tars, 4 at a time, with no network at all.
    var imageTars = new List<string>();
    foreach (var name in localNames)
    {
        var tar = Path.Combine(work, $"image-{imageTars.Count}.tar");
        await tools.MustAsync(tools.DockerAsync(tools.EngineA, "save", "-o", tar, name), "docker save");
        imageTars.Add(tar);
    }

    // dapp's way: one image at a time, pulled under its registry name, tagged, the registry name removed.
    async Task<TimeSpan> DappWayAsync(IReadOnlyList<string> signatures)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var signature in signatures)
        {
            var remote = $"{pullRepo}:dimgstage-{signature}";
            await tools.MustAsync(tools.DockerAsync(tools.EngineB, "pull", "-q", remote), "docker pull");
            await tools.MustAsync(tools.DockerAsync(tools.EngineB, "tag", remote, $"dimgstage-{project}:{signature}"), "docker tag");
            await tools.MustAsync(tools.DockerAsync(tools.EngineB, "rmi", remote), "docker rmi");
        }
        return clock.Elapsed;
    }

    for (int run = 1; run <= options.Runs; run++)
    {
        Console.WriteLine($"pull run {run}/{options.Runs}");
        Record("process start", (await tools.MustAsync(tools.DappAsync(tools.EngineB, work, "--version"), "dapp --version")).Elapsed);

        await tools.ResetAsync(tools.EngineB);
        var engineCpu = options.EnginePid is { } pid ? CpuProfile.EngineSeconds(pid) : 0;
        var ours = await tools.MustAsync(Tools.RunAsync("/usr/bin/time", ["-f", "cpu %U %S", dapp, "dimg", "stages", "pull", pullRepo, "--name", project, "--quiet"],
            work, new() { ["DOCKER_HOST"] = tools.EngineB, ["NO_COLOR"] = "1" }), "stages pull");
        Record("ours", ours.Elapsed);
        if (options.EnginePid is { } enginePid)
        {
            var ownCpu = ours.Stderr.Split('\n').Last(l => l.StartsWith("cpu ")).Split(' ').Skip(1).Sum(v => double.Parse(v, CultureInfo.InvariantCulture));
            Record("  engine CPU (s)", TimeSpan.FromSeconds(CpuProfile.EngineSeconds(enginePid) - engineCpu));
            Record("  dapp CPU (s)", TimeSpan.FromSeconds(ownCpu));
        }
        Record("ours, all local", (await tools.MustAsync(tools.DappAsync(tools.EngineB, work, "dimg", "stages", "pull", pullRepo, "--name", project, "--quiet"), "stages pull")).Elapsed);

        await tools.ResetAsync(tools.EngineB);
        Record("ours, load path", (await tools.MustAsync(tools.DappAsync(tools.EngineB, work, "dimg", "stages", "pull", pullRepo, "--name", project, "--quiet", "--transfer", "load"), "stages pull --transfer load")).Elapsed);

        await tools.ResetAsync(tools.EngineB);
        Record("dapp's way", await DappWayAsync(lastStages));

        await tools.ResetAsync(tools.EngineB);
        Record("docker load (limit)", (await tools.MustAsync(tools.DockerAsync(tools.EngineB, "load", "-q", "-i", loadTar), "docker load")).Elapsed);

        await tools.ResetAsync(tools.EngineB);
        var parallelLoad = System.Diagnostics.Stopwatch.StartNew();
        using (var slots = new SemaphoreSlim(4))
            await Task.WhenAll(imageTars.Select(async tar =>
            {
                await slots.WaitAsync();
                try { await tools.MustAsync(tools.DockerAsync(tools.EngineB, "load", "-q", "-i", tar), "docker load"); }
                finally { slots.Release(); }
            }));
        Record("docker load x4 (bound)", parallelLoad.Elapsed);

        await tools.ResetAsync(tools.EngineB);
        Record("ours --all", (await tools.MustAsync(tools.DappAsync(tools.EngineB, work, "dimg", "stages", "pull", "--all", pullRepo, "--name", project, "--quiet"), "stages pull --all")).Elapsed);

        await tools.ResetAsync(tools.EngineB);
        Record("dapp's way --all", await DappWayAsync(allStages));
    }

    if (!options.SkipPush)
        for (int run = 1; run <= options.Runs; run++)
        {
            Console.WriteLine($"push run {run}/{options.Runs} (each on a fresh build)");
            await BuildAsync($"push-ours-{stamp}-{run}");
            var ours = await tools.MustAsync(tools.DappAsync(tools.EngineA, work, "dimg", "stages", "push", $"{pullRepo}-push-ours-{run}", "--name", project, "--quiet"), "stages push");
            Record("ours push", ours.Elapsed);

            await BuildAsync($"push-docker-{stamp}-{run}");
            var dryRun = await tools.MustAsync(tools.DappAsync(tools.EngineA, work, "dimg", "stages", "push", "--dry-run", $"{pullRepo}-push-docker-{run}", "--name", project), "dry run");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            foreach (var signature in Signatures(dryRun, "[PUSH]"))
            {
                var remote = $"{pullRepo}-push-docker-{run}:dimgstage-{signature}";
                await tools.MustAsync(tools.DockerAsync(tools.EngineA, "tag", $"dimgstage-{project}:{signature}", remote), "docker tag");
                await tools.MustAsync(tools.DockerAsync(tools.EngineA, "push", "-q", remote), "docker push");
                await tools.MustAsync(tools.DockerAsync(tools.EngineA, "rmi", remote), "docker rmi");
            }
            Record("docker push loop", clock.Elapsed);
        }

    var medians = results.ToDictionary(r => r.Key, r => Median(r.Value));
    double Ratio(string a, string b) => medians.TryGetValue(a, out var x) && medians.TryGetValue(b, out var y) && y > 0 ? x / y : double.NaN;
    var ratios = new Dictionary<string, double>
    {
        ["ours / dapp's way"] = Ratio("ours", "dapp's way"),
        ["ours / docker load (limit)"] = Ratio("ours", "docker load (limit)"),
        ["ours / docker load x4 (bound)"] = Ratio("ours", "docker load x4 (bound)"),
        ["ours, load path / ours"] = Ratio("ours, load path", "ours"),
        ["ours --all / dapp's way --all"] = Ratio("ours --all", "dapp's way --all"),
        ["ours, all local - process start (s)"] = medians.GetValueOrDefault("ours, all local") - medians.GetValueOrDefault("process start"),
        ["ours push / docker push loop"] = Ratio("ours push", "docker push loop"),
    };

    Report.PrintTables(preset.Name, options.Runs, medians, ratios);

    var output = options.Out ?? Path.Combine(root, "bench", "results", $"{preset.Name}.json");
    Directory.CreateDirectory(Path.GetDirectoryName(output)!);
    await File.WriteAllTextAsync(output, JsonSerializer.Serialize(new
    {
        preset,
        runs = options.Runs,
        date = DateTime.UtcNow.ToString("u"),
        machine = new { cores = Environment.ProcessorCount, os = Environment.OSVersion.ToString() },
        lastStages = lastStages.Count,
        allStages = allStages.Count,
        unpackedBytes = unpacked,
        seconds = results,
        medians,
        ratios,
    }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    Console.WriteLine($"\nwritten {output}");
    return 0;
}
finally
{
    await tools.DappAsync(tools.EngineA, work, "dimg", "stages", "flush", "local", "--name", project, "--quiet");
    await tools.ResetAsync(tools.EngineB);
    Directory.Delete(work, true);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Dapp.slnx"))) dir = dir.Parent;
    return dir?.FullName ?? Directory.GetCurrentDirectory();
}

internal sealed record Options(string Preset, int Runs, string? Out, string? Dapp, string EngineB, string Registry, bool SkipPush, int? EnginePid)
{
    public static Options Parse(string[] args)
    {
        string Value(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        var runs = int.Parse(Value("--runs", "3"), CultureInfo.InvariantCulture);
        if (runs < 1) throw new ArgumentException("--runs must be at least 1");
        return new Options(Value("--preset", "default"), runs, args.Contains("--out") ? Value("--out", "") : null,
            args.Contains("--dapp") ? Value("--dapp", "") : null,
            Value("--engine-b", "unix:///tmp/dapp-services/engine2.sock"), Value("--registry", "127.0.0.1:5000"), args.Contains("--skip-push"),
            args.Contains("--profile") ? int.Parse(File.ReadAllText(Value("--engine-pid-file", "/tmp/dapp-services/engine2.pid")).Trim(), CultureInfo.InvariantCulture) : null);
    }
}
