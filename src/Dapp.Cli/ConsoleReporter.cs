using Dapp.Reporting;
using Spectre.Console;

namespace Dapp.Cli;

/// <summary>Plain lines, coloured when the terminal and --color allow: one line per stage, build output indented.</summary>
internal sealed class ConsoleReporter(IAnsiConsole console, TextWriter errors, OutputOptions options) : IReporter
{
    private readonly Lock _lock = new();

    public void Stage(StageEvent stage)
    {
        var color = stage.State switch
        {
            StageState.Build or StageState.Push or StageState.Pull => "yellow",
            StageState.UsingCache or StageState.Exist => "green",
            _ => "grey",
        };
        lock (_lock)
            console.MarkupLine($"{Markup.Escape(stage.Image),-14} {Markup.Escape(stage.Stage),-24} {stage.Signature} [{color}]{Markup.Escape(stage.State.Display())}[/]"
                + (stage.Detail is null ? "" : " " + Markup.Escape(stage.Detail)));
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
        lock (_lock) console.MarkupLine(Markup.Escape(message));
    }

    public void Warning(string message)
    {
        lock (_lock) errors.WriteLine($"Warning: {message}");
    }
}

internal sealed record OutputOptions(bool Quiet, bool Verbose, bool Time, string Color);
