using System.Globalization;
using System.Text.Json;

namespace Dapp.Bench;

/// <summary>
/// Start-up through each entry point a user runs: a no-op <c>stages pull</c> (every stage local, one manifest HEAD
/// per dimg) and <c>--version</c>, whole processes timed, median of N runs. Entry points: <c>scripts/dapp</c> (the
/// README's way: the AOT binary, built once per source change), the AOT binary itself, the dotnet tool
/// (<c>scripts/pack</c>, then <c>dotnet tool install --tool-path</c>: the linux-x64 package's AOT binary), and the JIT
/// build (<c>DAPP_SCRIPT_BUILD=jit scripts/dapp</c>).
/// </summary>
public static class Startup
{
    public static async Task<int> RunAsync(string root, int runs, string registry, string? output)
    {
        var script = Path.Combine(root, "scripts", "dapp");
        var work = Directory.CreateTempSubdirectory("dapp-bench-startup-").FullName;
        var tool = await InstallToolAsync(root, work);
        var entries = new (string Name, string Executable, Dictionary<string, string> Env)[]
        {
            ("scripts/dapp", script, []),
            ("AOT binary (artifacts/aot/dapp)", Path.Combine(root, "artifacts", "aot", "dapp"), []),
            ("dotnet tool (dotnet tool install Dapp.Cli)", tool, []),
            ("JIT build (DAPP_SCRIPT_BUILD=jit scripts/dapp)", script, new() { ["DAPP_SCRIPT_BUILD"] = "jit" }),
        };
        var repo = $"{registry}/bench/startup-{DateTime.UtcNow:yyyyMMddHHmmss}";
        var results = new Dictionary<string, List<double>>();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(work, "dappfile.yml"), "dimg: app\nfrom: dapp-examples/busybox:1.35\nshell:\n  install: echo startup > /startup\n");
            async Task<Run> Dapp(int entry, params string[] args) => await Tools.RunAsync(entries[entry].Executable, [.. args],
                work, new(entries[entry].Env) { ["NO_COLOR"] = "1", ["DAPP_HOME"] = Path.Combine(work, ".home") });
            async Task Must(Task<Run> run, string what)
            {
                var result = await run;
                if (result.ExitCode != 0) throw new InvalidOperationException($"{what} failed ({result.ExitCode}): {result.Stderr}");
            }
            // Each entry point once, untimed: builds what it needs (the AOT publish, the JIT build) and warms the caches.
            for (int e = 0; e < entries.Length; e++) await Must(Dapp(e, "--version"), $"{entries[e].Name} --version");
            await Must(Dapp(0, "dimg", "build", "--name", "startup", "--quiet"), "build");
            await Must(Dapp(0, "dimg", "stages", "push", repo, "--name", "startup", "--quiet"), "stages push");
            for (int run = 1; run <= runs; run++)
                for (int e = 0; e < entries.Length; e++)
                {
                    Record(results, $"{entries[e].Name}: --version", (await Dapp(e, "--version")).Elapsed);
                    var pull = await Dapp(e, "dimg", "stages", "pull", repo, "--name", "startup", "--quiet");
                    if (pull.ExitCode != 0) throw new InvalidOperationException($"stages pull failed: {pull.Stderr}");
                    Record(results, $"{entries[e].Name}: no-op stages pull", pull.Elapsed);
                }
            await Must(Dapp(0, "dimg", "stages", "flush", "local", "--name", "startup", "--quiet"), "flush");
        }
        finally
        {
            Directory.Delete(work, true);
        }
        var medians = results.ToDictionary(r => r.Key, r => r.Value.Order().ElementAt(r.Value.Count / 2));
        Console.WriteLine($"\n| entry point, command ({runs} runs, median) | seconds |\n|---|---|");
        foreach (var (name, median) in medians) Console.WriteLine($"| {name} | {median.ToString("0.000", CultureInfo.InvariantCulture)} |");
        var path = output ?? Path.Combine(root, "bench", "results", "startup.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new { runs, date = DateTime.UtcNow.ToString("u"), seconds = results, medians },
            new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"\nwritten {path}");
        return 0;
    }

    /// <summary>Packs the tool (<c>scripts/pack</c>) and installs it the way README says, into a tool path of the run's own.</summary>
    private static async Task<string> InstallToolAsync(string root, string work)
    {
        var packages = Path.Combine(work, "packages");
        var pack = await Tools.RunAsync(Path.Combine(root, "scripts", "pack"), [packages], root, []);
        if (pack.ExitCode != 0) throw new InvalidOperationException($"scripts/pack failed: {pack.Stderr}");
        var toolPath = Path.Combine(work, "tool");
        var install = await Tools.RunAsync("dotnet", ["tool", "install", "--tool-path", toolPath, "--add-source", packages, "Dapp.Cli"], root, []);
        if (install.ExitCode != 0) throw new InvalidOperationException($"dotnet tool install failed: {install.Stdout}{install.Stderr}");
        return Path.Combine(toolPath, "dapp");
    }

    private static void Record(Dictionary<string, List<double>> results, string what, TimeSpan elapsed)
    {
        if (!results.TryGetValue(what, out var list)) results[what] = list = [];
        list.Add(elapsed.TotalSeconds);
        Console.WriteLine($"  {what,-70} {elapsed.TotalSeconds,8:0.000} s");
    }
}
