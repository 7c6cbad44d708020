using System.Diagnostics;
using Dapp.Engine;
using Dapp.Stages;
using Xunit.Abstractions;

namespace Dapp.Tests.Integration;

/// <summary>
/// dimg build --jobs through the CLI on the real engine: chains that do not depend on each other build at once, to the
/// same stages as one after another; a failing chain stops the others after the stage they are in; Ctrl-C stops all.
/// </summary>
[Collection(EngineCollection.Name)]
public class ParallelBuildTests(ITestOutputHelper output)
{
    /// <summary>Three dimgs and an artifact two of them import before setup; each stage writes random data (a second build of a stage would differ).</summary>
    internal static string WideDappfile(string marker) => $"""
        artifact: tool
        from: dapp-examples/busybox:1.35
        shell:
          install: mkdir -p /out && echo {marker} > /out/marker && head -c 50000 /dev/urandom > /out/tool
        ---
        dimg: a
        from: dapp-examples/busybox:1.35
        import:
        - {"{"}artifact: tool, add: /out, to: /opt/tool, before: setup{"}"}
        shell:
          install: echo a-install && head -c 50000 /dev/urandom > /a
          setup: echo a-setup && cat /opt/tool/marker > /a-setup
        ---
        dimg: b
        from: dapp-examples/busybox:1.35
        import:
        - {"{"}artifact: tool, add: /out, to: /opt/tool, before: setup{"}"}
        shell:
          install: echo b-install && head -c 50000 /dev/urandom > /b
          setup: echo b-setup && cat /opt/tool/marker > /b-setup
        ---
        dimg: c
        from: dapp-examples/busybox:1.35
        shell:
          install: echo c-install && head -c 50000 /dev/urandom > /c
          setup: echo c-setup
        """;

    private static IReadOnlyList<string> StageLines(CliResult result, string state) =>
        result.StdoutLines.Where(l => l.TrimEnd().EndsWith(state, StringComparison.Ordinal)).ToList();

    /// <summary>The signatures of the stage lines in a state, sorted (chains sharing a stage, such as from, may each be the one that builds it).</summary>
    internal static IReadOnlyList<string> Signatures(CliResult result, string state) =>
        StageLines(result, state).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^2]).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task A_wide_project_builds_with_four_jobs_to_the_stages_one_job_builds_the_shared_artifact_once()
    {
        await using var test = new TestProject(WideDappfile(Guid.NewGuid().ToString("N")));
        var serialName = test.Name + "-serial";
        test.AlsoUsed.Add((null, serialName));

        var parallel = await DappCli.RunAsync(test, "dimg", "build", "--jobs", "4");
        Assert.True(parallel.ExitCode == 0, parallel.Stderr + parallel.Stdout);
        var serial = await DappCli.RunAsync(test.Dir, new Dictionary<string, string> { ["DAPP_HOME"] = test.HomeDir },
            "dimg", "build", "--jobs", "1", "--name", serialName);
        Assert.True(serial.ExitCode == 0, serial.Stderr + serial.Stdout);
        output.WriteLine(parallel.Stdout);

        // The same stages, each built once (a stage two chains share is built by one and used by the other).
        Assert.Equal(Signatures(serial, "[BUILD]"), Signatures(parallel, "[BUILD]"));
        Assert.Equal(Signatures(parallel, "[BUILD]").Count, Signatures(parallel, "[BUILD]").Distinct().Count());
        Assert.Single(StageLines(parallel, "[BUILD]"), l => l.StartsWith("artifact tool ", StringComparison.Ordinal) && l.Contains(" install "));
        // Build output stays whole lines, each prefixed with its dimg.
        foreach (var dimg in new[] { "a", "b", "c" })
            Assert.Equal([$"{dimg}-install", $"{dimg}-setup"], parallel.StdoutLines.Where(l => l.StartsWith(dimg + " ", StringComparison.Ordinal) && l.Contains($"| {dimg}-"))
                .Select(l => l.Split("| ")[1].Trim()));

        // Both the artifact's copies imported are the one built: the stages after the import read the same marker.
        using var project = await test.LoadAsync();
        var conveyors = await project.SelectConveyorsAsync(["a", "b"], default);
        Assert.Equal(
            await DockerCli.ShellAsync(project.Stages.ImageName(conveyors[0].LastSignature), "cat /opt/tool/tool | md5sum"),
            await DockerCli.ShellAsync(project.Stages.ImageName(conveyors[1].LastSignature), "cat /opt/tool/tool | md5sum"));

        var again = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Empty(StageLines(again, "[BUILD]"));
    }

    [Fact]
    public async Task A_failing_chain_lets_the_others_tag_the_stage_they_are_in_starts_nothing_new_and_exits_1()
    {
        await using var test = new TestProject("""
            dimg: bad
            from: dapp-examples/busybox:1.35
            shell:
              install: sleep 1 && exit 3
            ---
            dimg: good1
            from: dapp-examples/busybox:1.35
            shell:
              install: sleep 5 && echo good1 > /good
              setup: echo never
            ---
            dimg: good2
            from: dapp-examples/busybox:1.35
            shell:
              install: sleep 5 && echo good2 > /good
              setup: echo never
            """);

        var result = await DappCli.RunAsync(test, "dimg", "build", "--jobs", "4");

        Assert.True(result.ExitCode == 1, result.Stderr + result.Stdout);
        Assert.Contains("Error: bad: stage install failed: a command exited with code 3", result.Stderr);
        Assert.DoesNotContain("never", result.Stdout);
        Assert.Empty(await DockerCli.ContainerNamesAsync($"{DappContainers.Prefix}{test.Name}."));
        using var project = await test.LoadAsync();
        foreach (var conveyor in await project.SelectConveyorsAsync(["good1", "good2"], default))
        {
            Assert.Equal(conveyor.Image.Name, (await DockerCli.ShellAsync(project.Stages.ImageName(conveyor.SignatureOf(StageName.Install)), "cat /good")).Trim());
            Assert.Null(await project.Stages.InspectAsync(conveyor.LastSignature, default));
        }
        Assert.DoesNotContain(result.StdoutLines, l => l.Contains(" setup ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ctrl_c_during_a_parallel_build_stops_every_chain_exits_130_and_leaves_no_container()
    {
        await using var test = new TestProject(string.Join("---\n", new[] { "x", "y", "z" }.Select(d =>
            $"dimg: {d}\nfrom: dapp-examples/busybox:1.35\nshell:\n  install: echo started-{d} && sleep 60\n")));
        using var process = DappCli.Start(test.Dir, new Dictionary<string, string> { ["DAPP_HOME"] = test.HomeDir },
            "dimg", "build", "--jobs", "3", "--name", test.Name);
        var started = new HashSet<string>();
        while (started.Count < 3 && await process.StandardOutput.ReadLineAsync() is { } line)
            if (line.Contains("| started-", StringComparison.Ordinal)) started.Add(line.Split("| ")[1]);
        Assert.Equal(3, started.Count);
        Assert.Equal(3, (await DockerCli.ContainerNamesAsync($"{DappContainers.Prefix}{test.Name}.")).Count);

        var clock = Stopwatch.StartNew();
        Process.Start("kill", ["-INT", process.Id.ToString()])!.WaitForExit();
        var rest = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        output.WriteLine($"exited {clock.Elapsed.TotalSeconds:0.00} s after SIGINT");
        await rest;

        Assert.Equal(130, process.ExitCode);
        Assert.Empty(await DockerCli.ContainerNamesAsync($"{DappContainers.Prefix}{test.Name}."));
    }
}
