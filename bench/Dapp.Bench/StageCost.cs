namespace Dapp.Bench;

/// <summary>
/// <c>--stage-cost</c>: the cost of a stage that does nothing, side by side on one engine. Ours: a dimg of four shell
/// stages of <c>true</c> and docker instructions, rebuilt from beforeInstall (a seed in its command), 5 stages. The
/// engine's classic builder (<c>DOCKER_BUILDKIT=0 docker build --no-cache</c>) of 4 <c>RUN true</c> and a CMD, 5 steps;
/// BuildKit the same way when the engine has it. Whole processes timed, as a user runs them.
/// </summary>
public static class StageCost
{
    private const int Steps = 5;

    public static async Task<int> RunAsync(string root, Tools tools, string docker, int runs, string? output)
    {
        var work = Directory.CreateTempSubdirectory("dapp-bench-stage-cost-").FullName;
        var context = Directory.CreateDirectory(Path.Combine(work, "context")).FullName;
        await File.WriteAllTextAsync(Path.Combine(context, "Dockerfile"),
            "FROM dapp-examples/busybox:1.35\nRUN true\nRUN true\nRUN true\nRUN true\nCMD [\"/bin/sh\"]\n");
        var measured = new Measurements();
        void Record(string method, TimeSpan elapsed) => measured.Record($"{method}, s per stage", elapsed.TotalSeconds / Steps);
        Task<Run> DockerBuild(bool buildKit) => Tools.RunAsync(docker, ["-H", tools.EngineA, "build", "--no-cache", "-q", "-t", "bench-stage-cost:latest", context], null,
            new() { ["DOCKER_BUILDKIT"] = buildKit ? "1" : "0" });
        var project = "bench-stage-cost";
        try
        {
            var buildKit = (await DockerBuild(buildKit: true)).ExitCode == 0;
            if (!buildKit) Console.WriteLine("BuildKit: not available on this engine (DOCKER_BUILDKIT=1 docker build failed); left out");
            await tools.MustAsync(DockerBuild(buildKit: false), "docker build (warm-up)");
            for (int run = 0; run <= runs; run++)
            {
                // Run 0 warms up (and builds the from stage), untimed.
                await File.WriteAllTextAsync(Path.Combine(work, "dappfile.yml"),
                    $"dimg: app\nfrom: dapp-examples/busybox:1.35\nshell:\n  beforeInstall: true {Guid.NewGuid():N}\n  install: 'true'\n  beforeSetup: 'true'\n  setup: 'true'\ndocker:\n  CMD: [/bin/sh]\n");
                // Each goes first in every other run: neither always runs on an engine the other has just worked.
                Run ours, classic;
                if (run % 2 == 0)
                {
                    ours = await tools.MustAsync(tools.DappAsync(tools.EngineA, work, "dimg", "build", "--name", project, "--quiet"), "dimg build");
                    classic = await tools.MustAsync(DockerBuild(buildKit: false), "docker build");
                }
                else
                {
                    classic = await tools.MustAsync(DockerBuild(buildKit: false), "docker build");
                    ours = await tools.MustAsync(tools.DappAsync(tools.EngineA, work, "dimg", "build", "--name", project, "--quiet"), "dimg build");
                }
                Run? kit = buildKit ? await tools.MustAsync(DockerBuild(buildKit: true), "docker build (BuildKit)") : null;
                if (run == 0) continue;
                Console.WriteLine($"run {run}/{runs}");
                Record("ours (dimg build)", ours.Elapsed);
                Record("classic builder (DOCKER_BUILDKIT=0)", classic.Elapsed);
                if (kit is not null) Record("BuildKit (DOCKER_BUILDKIT=1)", kit.Elapsed);
            }
        }
        finally
        {
            await tools.DappAsync(tools.EngineA, work, "dimg", "stages", "flush", "local", "--name", project, "--quiet");
            await tools.DockerAsync(tools.EngineA, "rmi", "-f", "bench-stage-cost:latest");
            await tools.DockerAsync(tools.EngineA, "image", "prune", "-f");
            Directory.Delete(work, true);
        }
        var medians = measured.Medians();
        var ratios = new Dictionary<string, double>
        {
            ["ours / classic builder (target <= 1.0)"] = medians["ours (dimg build), s per stage"] / medians["classic builder (DOCKER_BUILDKIT=0), s per stage"],
        };
        if (medians.TryGetValue("BuildKit (DOCKER_BUILDKIT=1), s per stage", out var kitMedian))
            ratios["ours / BuildKit"] = medians["ours (dimg build), s per stage"] / kitMedian;
        return await Report.WriteAsync(root, "stage-cost", runs, medians, ratios, measured.Values, output);
    }
}
