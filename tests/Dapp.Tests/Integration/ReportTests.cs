using System.Text.Json;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Syntax;

namespace Dapp.Tests.Integration;

/// <summary>--report through the CLI: what each stage cost and why, written when a command ends, also when it fails.</summary>
[Collection(EngineCollection.Name)]
public class ReportTests : IAsyncLifetime
{
    private readonly string _marker = Guid.NewGuid().ToString("N")[..12];
    private readonly string _repo = $"127.0.0.1:5000/report/{Guid.NewGuid():N}";

    public Task InitializeAsync() => SecondEngine.EnsureUpAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    private string Dappfile(string setup = "echo setup") => $"""
        dimg: app
        from: {EngineFixture.BaseImage}
        shell:
          install:
          - mkdir -p /app && head -c 300000 /dev/urandom > /app/blob && echo {_marker} > /app/marker
          setup:
          - {setup}
        """;

    private static JsonElement Read(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    private static readonly string[] StageFields = ["dimg", "stage", "signature", "state", "states", "reason", "seconds", "pulled_bytes", "pushed_bytes", "where"];

    private static JsonElement Stage(JsonElement report, string stage) =>
        report.GetProperty("stages").EnumerateArray().First(s => s.GetProperty("stage").GetString() == stage);

    [Fact]
    public async Task A_build_a_bp_and_a_failing_build_leave_reports_with_every_stage_why_and_what_it_cost()
    {
        await using var test = new TestProject(Dappfile());
        var first = Path.Combine(test.Dir, "build.json");
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "build", "--report", first)).ExitCode);
        var report = Read(first);
        Assert.Equal("dimg build", report.GetProperty("command").GetString());
        Assert.Equal("ok", report.GetProperty("status").GetString());
        var stages = report.GetProperty("stages").EnumerateArray().ToList();
        Assert.Equal(["from", "install", "setup"], stages.Select(s => s.GetProperty("stage").GetString()));
        Assert.All(stages, s => Assert.Equal(StageFields, s.EnumerateObject().Select(p => p.Name)));
        Assert.All(stages, s => Assert.Equal("built here", s.GetProperty("where").GetString()));
        Assert.Equal("first-build", Stage(report, "install").GetProperty("reason").GetProperty("kind").GetString());
        Assert.True(Stage(report, "install").GetProperty("seconds").GetDouble() > 0);
        var totals = report.GetProperty("totals");
        Assert.Equal((3, 0, 0.0), (totals.GetProperty("built").GetInt32(), totals.GetProperty("cached").GetInt32(), totals.GetProperty("cache_hit_rate").GetDouble()));
        Assert.Equal(0, totals.GetProperty("registry_requests").GetProperty("total").GetInt64());

        // bp with a stages storage after a change of setup: one stage built, two found; its pushes counted and timed.
        test.WriteDappfile(Dappfile(setup: "echo SETUP"));
        var bp = Path.Combine(test.Dir, "bp.json");
        var bpRun = await DappCli.RunAsync(test, "dimg", "bp", "--stages-storage", _repo, _repo, "--tag-plain", "main", "--report", bp);
        Assert.True(bpRun.ExitCode == 0, bpRun.Stderr);
        report = Read(bp);
        Assert.Equal("dimg bp", report.GetProperty("command").GetString());
        Assert.Equal(["BUILD"], Stage(report, "setup").GetProperty("states").EnumerateArray().Select(s => s.GetString()).Distinct().Take(1));
        Assert.Equal("instructions", Stage(report, "setup").GetProperty("reason").GetProperty("kind").GetString());
        Assert.Equal("USING CACHE", Stage(report, "install").GetProperty("state").GetString());
        // The stages this host had are published too: the install stage's blob is the bulk of what was pushed.
        Assert.True(Stage(report, "install").GetProperty("pushed_bytes").GetInt64() > 300_000);
        totals = report.GetProperty("totals");
        // Distributed mode walks back from the end: the stage it goes on from is the one found (from is published, unlisted before).
        Assert.Equal((1, 1), (totals.GetProperty("built").GetInt32(), totals.GetProperty("cached").GetInt32()));
        Assert.Equal(report.GetProperty("stages").EnumerateArray().Sum(s => s.GetProperty("pushed_bytes").GetInt64()), totals.GetProperty("pushed_bytes").GetInt64());
        var requests = totals.GetProperty("registry_requests");
        Assert.Equal(["HEAD", "GET_manifest", "GET_blob", "PUT", "DELETE", "other", "total"], requests.EnumerateObject().Select(p => p.Name));
        Assert.True(requests.GetProperty("PUT").GetInt64() > 0);
        Assert.Equal(requests.EnumerateObject().Where(p => p.Name != "total").Sum(p => p.Value.GetInt64()), requests.GetProperty("total").GetInt64());
        Assert.Contains("registry request(s) by dapp", bpRun.Stdout + bpRun.Stderr);

        // A failing build: the report is written, with the error.
        test.WriteDappfile(Dappfile(setup: "exit 3"));
        var failed = Path.Combine(test.Dir, "failed.json");
        var failing = await DappCli.RunAsync(test, "dimg", "build", "--report", failed);
        Assert.NotEqual(0, failing.ExitCode);
        report = Read(failed);
        Assert.Equal("failed", report.GetProperty("status").GetString());
        Assert.Contains("setup", report.GetProperty("error").GetString());
        Assert.Equal("BUILD", Stage(report, "setup").GetProperty("state").GetString());
        Assert.Equal("instructions", Stage(report, "setup").GetProperty("reason").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Stages_push_and_pull_reports_count_the_bytes_their_summaries_count_and_the_markdown_form_is_a_table()
    {
        await using var test = new TestProject(Dappfile());
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "build")).ExitCode);
        var pushReport = Path.Combine(test.Dir, "push.json");
        var push = await DappCli.RunAsync(test, "dimg", "stages", "push", _repo, "--json", "--report", pushReport);
        Assert.True(push.ExitCode == 0, push.Stderr);
        var summary = push.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).Single(e => e.GetProperty("type").GetString() == "summary");
        var pushed = Read(pushReport);
        Assert.True(summary.GetProperty("bytes").GetInt64() > 300_000);
        Assert.Equal(summary.GetProperty("bytes").GetInt64(), pushed.GetProperty("totals").GetProperty("pushed_bytes").GetInt64());
        Assert.Equal(3, pushed.GetProperty("totals").GetProperty("pushed").GetInt32());

        test.AlsoUsed.Add((SecondEngine.Host, test.Name));
        var pullReport = Path.Combine(test.Dir, "pull.md");
        var pull = await DappCli.RunAsync(test.Dir, SecondEngine.Environment(test),
            ["dimg", "stages", "pull", _repo, "--json", "--report", pullReport, "--report-format", "markdown", "--name", test.Name]);
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        var pulledBytes = pull.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).Single(e => e.GetProperty("type").GetString() == "summary").GetProperty("bytes").GetInt64();

        var markdown = File.ReadAllText(pullReport);
        var document = Markdown.Parse(markdown, new MarkdownPipelineBuilder().UseAdvancedExtensions().Build());
        var heading = Assert.IsType<HeadingBlock>(document[0]);
        Assert.Equal("dapp dimg stages pull: ok", string.Concat(heading.Inline!.Descendants<Markdig.Syntax.Inlines.LiteralInline>().Select(l => l.Content.ToString())).Split(" in ")[0]);
        var table = document.Descendants<Table>().Single();
        var rows = table.Cast<TableRow>().ToList();
        Assert.True(rows[0].IsHeader);
        Assert.Equal(9, rows[0].Count);
        var body = rows.Skip(1).ToList();
        Assert.Single(body);
        Assert.Contains("PULL", Cell(body[0], 3));
        Assert.Contains(Dapp.Reporting.TransferTotals.Format(pulledBytes), markdown);
    }

    private static string Cell(TableRow row, int index) =>
        string.Concat(((TableCell)row[index]).Descendants<Markdig.Syntax.Inlines.LiteralInline>().Select(l => l.Content.ToString()));
}
