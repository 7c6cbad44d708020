using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Dapp.Bench;

/// <summary>
/// Distributed mode on a fresh host (docs/distributed.md): engine A builds the preset with
/// <c>bp --stages-storage R R</c>; then, on engine B reset before each measurement, our no-op
/// <c>bp --stages-storage R R</c> against dapp's way (a sequential <c>docker pull</c> of each last stage, tagged as the
/// local stage, then <c>bp --with-stages R</c>), and a one-stage change (a new seed in one dimg's last data stage) built
/// in distributed mode, whose pulled bytes are compared with the layers of the stage it builds on. Engine B is emptied
/// before each measurement, base image included: a fresh CI host. Figures from our
/// summary line: stages and layer bytes moved, requests dapp made.
/// </summary>
public static partial class Distributed
{
    public static async Task<int> RunAsync(string root, Tools tools, Preset preset, int runs, string registry, string? output)
    {
        var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss");
        var project = $"bench-dist-{preset.Name}";
        var repo = $"{registry}/bench/dist-{preset.Name}-{stamp}";
        var cacheVersion = $"dist-{stamp}";
        var work = Directory.CreateTempSubdirectory("dapp-bench-dist-").FullName;
        var results = new Dictionary<string, List<double>>();
        var facts = new Dictionary<string, object>();
        void Record(string what, double value, string unit = "s")
        {
            if (!results.TryGetValue(what, out var list)) results[what] = list = [];
            list.Add(value);
            Console.WriteLine($"  {what,-52} {value,12:0.000} {unit}");
        }
        Task<Run> Dapp(string engine, params string[] args) => tools.DappAsync(engine, work, [.. args, "--name", project]);
        async Task WriteAsync(int changedDimg = -1, string change = "") =>
            await File.WriteAllTextAsync(Path.Combine(work, "dappfile.yml"), ProjectGenerator.Dappfile(preset, cacheVersion, changedDimg, change));

        try
        {
            Console.WriteLine($"distributed, preset {preset.Name}: {preset.Dimgs} dimgs x {preset.StagesPerDimg} stages, {preset.BytesPerDataStage >> 10} KiB per data stage");
            await WriteAsync();
            var a = await tools.MustAsync(Dapp(tools.EngineA, "dimg", "bp", "--stages-storage", repo, repo), "bp on engine A");
            Record("host A: full build, distributed", a.Elapsed.TotalSeconds);

            for (int run = 1; run <= runs; run++)
            {
                Console.WriteLine($"run {run}/{runs}");
                await tools.ResetAsync(tools.EngineB, keepBase: false);
                var ours = await tools.MustAsync(Dapp(tools.EngineB, "dimg", "bp", "--stages-storage", repo, repo), "no-op bp --stages-storage");
                var summary = Summary.Parse(ours.Stdout);
                Record("ours: no-op bp --stages-storage", ours.Elapsed.TotalSeconds);
                Record("ours: no-op layer bytes moved", summary.BytesPulled + summary.BytesPushed, "B");
                var walked = Lines(ours.Stdout, "[IN REPO]").Count + Lines(ours.Stdout, "[USING CACHE]").Count;
                var tags = Lines(ours.Stdout, "[EXIST]").Count + Lines(ours.Stdout, "[PUSH]").Count;
                Record("ours: no-op registry requests", summary.Requests, "");
                Record("ours: no-op request bound (2/stage walked + 3/tag)", 2 * walked + 3 * tags, "");
                if (Lines(ours.Stdout, "[BUILD]").Count > 0) throw new InvalidOperationException("the no-op built something:\n" + ours.Stdout);

                await tools.ResetAsync(tools.EngineB, keepBase: false);
                var plan = await tools.MustAsync(Dapp(tools.EngineB, "dimg", "stages", "pull", "--dry-run", repo), "dry run");
                var clock = System.Diagnostics.Stopwatch.StartNew();
                foreach (var signature in Signatures(plan.Stdout, "[PULL]"))
                {
                    var remote = $"{repo}:dimgstage-{signature}";
                    await tools.MustAsync(tools.DockerAsync(tools.EngineB, "pull", "-q", remote), "docker pull");
                    await tools.MustAsync(tools.DockerAsync(tools.EngineB, "tag", remote, $"dimgstage-{project}:{signature}"), "docker tag");
                    await tools.MustAsync(tools.DockerAsync(tools.EngineB, "rmi", remote), "docker rmi");
                }
                await tools.MustAsync(Dapp(tools.EngineB, "dimg", "bp", "--with-stages", repo), "bp --with-stages");
                Record("dapp's way: docker pull each last stage + bp --with-stages", clock.Elapsed.TotalSeconds);

                await WriteAsync(changedDimg: 0, change: $"-change-{run}");
                await tools.ResetAsync(tools.EngineB, keepBase: false);
                // Its own tag: the no-op of the next run finds the dimg tags as they were.
                var change = await tools.MustAsync(Dapp(tools.EngineB, "dimg", "bp", "--stages-storage", repo, repo, "--tag-plain", "change"), "one-stage change");
                var changed = Summary.Parse(change.Stdout);
                var parent = Signatures(change.Stdout, "[PULL]");
                if (parent.Count != 1) throw new InvalidOperationException("the one-stage change pulled other than one stage:\n" + change.Stdout);
                Record("ours: one-stage change, bp --stages-storage", change.Elapsed.TotalSeconds);
                Record("ours: one-stage change, layer bytes pulled", changed.BytesPulled, "B");
                Record("  the parent stage's layers (compressed)", await LayerBytesAsync(registry, repo, parent[0]), "B");
                Record("ours: one-stage change, stages built", Lines(change.Stdout, "[BUILD]").Count, "");
                await WriteAsync();
            }
        }
        finally
        {
            await tools.DappAsync(tools.EngineA, work, "dimg", "stages", "flush", "local", "--name", project, "--quiet");
            await tools.ResetAsync(tools.EngineB, keepBase: false);
            Directory.Delete(work, true);
        }

        var medians = results.ToDictionary(r => r.Key, r => r.Value.Order().ElementAt(r.Value.Count / 2));
        var speedup = medians["dapp's way: docker pull each last stage + bp --with-stages"] / medians["ours: no-op bp --stages-storage"];
        facts["no-op speed-up over dapp's way"] = speedup;
        Console.WriteLine($"\n| distributed, {preset.Name} ({runs} runs, median) | value |\n|---|---|");
        foreach (var (name, median) in medians) Console.WriteLine($"| {name} | {median.ToString("0.###", CultureInfo.InvariantCulture)} |");
        Console.WriteLine($"| no-op speed-up over dapp's way | {speedup.ToString("0.0", CultureInfo.InvariantCulture)}x |");
        var path = output ?? Path.Combine(root, "bench", "results", $"distributed-{preset.Name}.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new { preset, runs, date = DateTime.UtcNow.ToString("u"), values = results, medians, facts },
            new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"\nwritten {path}");
        return 0;
    }

    private static List<string> Lines(string stdout, string state) => stdout.Split('\n').Where(l => l.TrimEnd().EndsWith(state)).ToList();

    private static List<string> Signatures(string stdout, string state) =>
        Lines(stdout, state).Select(l => l.TrimEnd()[..^state.Length].Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).Distinct().ToList();

    /// <summary>The compressed size of a stage's layers, as its manifest in the registry says.</summary>
    private static async Task<long> LayerBytesAsync(string registry, string repo, string signature)
    {
        using var http = new HttpClient();
        var path = repo[(registry.Length + 1)..];
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{registry}/v2/{path}/manifests/dimgstage-{signature}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.docker.distribution.manifest.v2+json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("layers").EnumerateArray().Sum(l => l.GetProperty("size").GetInt64());
    }

    /// <summary>dapp's summary line: "stages storage R: pulled N stage(s), X; pushed N stage(s), X; N registry request(s) by dapp; S s".</summary>
    private sealed partial record Summary(long BytesPulled, long BytesPushed, long Requests)
    {
        public static Summary Parse(string stdout)
        {
            var match = Line().Match(stdout);
            if (!match.Success) throw new InvalidOperationException("no stages storage summary in:\n" + stdout);
            return new Summary(Bytes(match.Groups[1].Value), Bytes(match.Groups[2].Value), long.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture));
        }

        private static long Bytes(string text)
        {
            var parts = text.Split(' ');
            var value = double.Parse(parts[0], CultureInfo.InvariantCulture);
            return (long)(value * parts[1] switch { "GiB" => 1L << 30, "MiB" => 1L << 20, "KiB" => 1L << 10, _ => 1 });
        }

        [GeneratedRegex(@"stages storage \S+: pulled \d+ stage\(s\), ([0-9.]+ \w+); pushed \d+ stage\(s\), ([0-9.]+ \w+); (\d+) registry request")]
        private static partial Regex Line();
    }
}
