using Dapp.Reporting;
using Spectre.Console;

namespace Dapp.Cli;

/// <summary>Plain lines, coloured when the terminal and --color allow: one line per stage, build output indented.</summary>
internal sealed class ConsoleReporter(IAnsiConsole console, TextWriter errors, OutputOptions options) : IReporter
{
    private readonly Lock _lock = new();
    private int _live;

    public void Stage(StageEvent stage)
    {
        var color = stage.State switch
        {
            StageState.Build or StageState.Push or StageState.Pull => "yellow",
            StageState.UsingCache or StageState.Exist or StageState.InRepo => "green",
            StageState.Waiting => "blue",
            _ => "grey",
        };
        lock (_lock)
        {
            console.MarkupLine($"{Markup.Escape(stage.Image),-14} {Markup.Escape(stage.Stage),-24} {stage.Signature} [{color}]{Markup.Escape(stage.State.Display())}[/]"
                + (stage.Detail is null ? "" : " " + Markup.Escape(stage.Detail)));
            if (stage.Reason is { } reason) console.MarkupLine($"    because: {Markup.Escape(reason.ToString())}");
            if (stage.Note is { } note) console.MarkupLine($"    [blue]note:[/] {Markup.Escape(note)}");
        }
    }

    public void StageBuilt(StageEvent stage, TimeSpan elapsed)
    {
        if (options.Time || options.Verbose)
            lock (_lock) console.MarkupLine($"{Markup.Escape(stage.Image),-14} {Markup.Escape(stage.Stage),-24} built in {elapsed.TotalSeconds:0.00} s");
    }

    public void BuildOutput(string image, string line)
    {
        if (options.Quiet) return;
        lock (_lock) console.MarkupLine($"[grey]{Markup.Escape(image),-14} |[/] {Markup.Escape(line)}");
    }

    public void Info(string message)
    {
        if (options.Quiet) return;
        lock (_lock) console.MarkupLine(Markup.Escape(UrlCredentials.Redact(message)));
    }

    public void Warning(string message)
    {
        lock (_lock) errors.WriteLine($"Warning: {UrlCredentials.Redact(message)}");
    }

    public void Removal(RemovalEvent removal) => Info(removal.ToString());

    public void Summary(TransferSummary summary) => Info(summary.ToString());

    public ITransferDisplay BeginTransfers(string verb, int images)
    {
        if (options.Quiet || images == 0) return NoTransferDisplay.Instance;
        // One live display at a time (the terminal has one cursor): chains pulling at once beside it get plain lines.
        if (!Console.IsOutputRedirected && console.Profile.Capabilities.Interactive && Interlocked.CompareExchange(ref _live, 1, 0) == 0)
            return new LiveTransferDisplay(console, verb, () => Volatile.Write(ref _live, 0));
        return new PlainTransferDisplay(line => { lock (_lock) console.WriteLine(line); }, verb, images, options.ProgressInterval);
    }
}

internal sealed record OutputOptions(bool Quiet, bool Verbose, bool Time, string Color)
{
    public bool Json { get; init; }

    /// <summary>How often plain progress lines are printed (DAPP_PROGRESS_INTERVAL seconds, default 5).</summary>
    public TimeSpan ProgressInterval { get; init; } =
        double.TryParse(Environment.GetEnvironmentVariable("DAPP_PROGRESS_INTERVAL"), System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(5);
}
