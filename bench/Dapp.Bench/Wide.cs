using System.Text;

namespace Dapp.Bench;

/// <summary>
/// <c>--preset wide</c>: a cold build of 4 independent dimgs and one artifact two of them import, whose install and
/// setup each wait 3 s (the stand-in for downloads), with the default --jobs against --jobs 1; and the longest chain
/// built alone (its dimg named on the command line), the bound a parallel build can reach.
/// </summary>
public static class Wide
{
    public const int StageSeconds = 3;

    public static string Dappfile(string seed)
    {
        var sb = new StringBuilder();
        sb.Append($"artifact: tool\nfrom: dapp-examples/busybox:1.35\nshell:\n  install: sleep {StageSeconds} && mkdir -p /out && echo {seed} > /out/tool\n" +
                  $"  setup: sleep {StageSeconds} && echo {seed} > /out/setup\n");
        for (int d = 0; d < 4; d++)
        {
            sb.Append($"---\ndimg: app{d}\nfrom: dapp-examples/busybox:1.35\n");
            if (d < 2) sb.Append("import:\n- {artifact: tool, add: /out, to: /opt/tool, before: setup}\n");
            sb.Append($"shell:\n  install: sleep {StageSeconds} && echo {seed}-{d} > /install\n  setup: sleep {StageSeconds} && echo {seed}-{d} > /setup\n");
        }
        return sb.ToString();
    }

    public static async Task<int> RunAsync(string root, Tools tools, int runs, string? output)
    {
        var work = Directory.CreateTempSubdirectory("dapp-bench-wide-").FullName;
        var measured = new Measurements();
        var project = "bench-wide";
        try
        {
            Console.WriteLine($"wide: 4 dimgs + 1 artifact imported by 2 of them, install and setup {StageSeconds} s each (the longest chain: the artifact, then app0's setup)");
            for (int run = 1; run <= runs; run++)
            {
                Console.WriteLine($"run {run}/{runs}");
                foreach (var (method, args) in new (string, string[])[]
                         {
                             ("cold build, default --jobs", []),
                             ("cold build, --jobs 1", ["--jobs", "1"]),
                             ("longest chain alone (app0)", ["app0"]),
                         })
                {
                    // A seed per build: every stage is built, none is found.
                    await File.WriteAllTextAsync(Path.Combine(work, "dappfile.yml"), Dappfile(Guid.NewGuid().ToString("N")));
                    var build = await tools.MustAsync(tools.DappAsync(tools.EngineA, work, ["dimg", "build", "--name", project, "--quiet", .. args]), method);
                    measured.Record(method, build.Elapsed.TotalSeconds);
                    await tools.DappAsync(tools.EngineA, work, "dimg", "stages", "flush", "local", "--name", project, "--quiet");
                }
            }
        }
        finally
        {
            await tools.DappAsync(tools.EngineA, work, "dimg", "stages", "flush", "local", "--name", project, "--quiet");
            Directory.Delete(work, true);
        }

        var medians = measured.Medians();
        var ratios = new Dictionary<string, double>
        {
            ["--jobs 1 / default --jobs (target >= 2.5)"] = medians["cold build, --jobs 1"] / medians["cold build, default --jobs"],
            ["default --jobs / longest chain (target <= 1.3)"] = medians["cold build, default --jobs"] / medians["longest chain alone (app0)"],
        };
        return await Report.WriteAsync(root, "wide", runs, medians, ratios, measured.Values, output);
    }
}
