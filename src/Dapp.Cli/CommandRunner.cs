using Dapp.Commands;
using Dapp.Config;
using Dapp.Reporting;
using Spectre.Console;

namespace Dapp.Cli;

/// <summary>Runs a command body with a loaded project; turns failures into messages and exit codes.</summary>
internal static class CommandRunner
{
    /// <param name="report">--report: where to write what the command did, when it ends, whether it succeeded or not.</param>
    public static async Task<int> RunAsync(ProjectOptions projectOptions, OutputOptions output, CancellationToken ct,
        Func<DappProject, IReporter, Task<int>> body, ReportTarget? report = null)
    {
        RunRecorder? recorder = null;
        DappProject? loaded = null;
        string? error = null;
        var code = await RunWithoutProjectAsync(output, ct, async reporter =>
        {
            if (report is not null) reporter = recorder = new RunRecorder(reporter);
            using var project = await DappProject.LoadAsync(projectOptions, ct, reporter.Warning);
            loaded = project;
            return await body(project, reporter);
        }, message => error = message);
        if (report is null || recorder is null) return code;
        var written = recorder.Report(report.Command, error ?? (code == 0 ? null : $"exit code {code}"),
            loaded?.StageTransfers ?? new Dictionary<string, StageTransfer>(), loaded?.RegistryRequests ?? RequestCounts.None);
        try
        {
            var directory = Path.GetDirectoryName(report.Path)!;
            var temporary = Path.Combine(directory, $".{Path.GetFileName(report.Path)}.{Environment.ProcessId}.tmp");
            await File.WriteAllTextAsync(temporary, report.Markdown ? written.ToMarkdown() : written.ToJson(), CancellationToken.None);
            File.Move(temporary, report.Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Error: --report {report.Path}: cannot write it: {e.Message}");
            return code == 0 ? 1 : code;
        }
        return code;
    }

    /// <summary>A command that needs no dappfile (mrproper).</summary>
    /// <param name="failed">Told the message of the error that ended the command.</param>
    public static async Task<int> RunWithoutProjectAsync(OutputOptions output, CancellationToken ct, Func<IReporter, Task<int>> body, Action<string>? failed = null)
    {
        IReporter reporter = output.Json
            ? new JsonReporter(Console.Out, Console.Error, output)
            : new ConsoleReporter(CreateConsole(output.Color), Console.Error, output);
        try
        {
            DappInfo.EnsureHome();
            return await body(reporter);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // Whatever an interrupted engine or registry call threw: the user asked to stop.
            Console.Error.WriteLine("Interrupted");
            failed?.Invoke("interrupted");
            return 130;
        }
        catch (DappException e)
        {
            Console.Error.WriteLine($"Error: {UrlCredentials.Redact(e.Message)}");
            failed?.Invoke(UrlCredentials.Redact(e.Message));
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"Internal error: {e.GetType().Name}: {UrlCredentials.Redact(e.Message)}");
            if (output.Verbose) Console.Error.WriteLine(UrlCredentials.Redact(e.ToString()));
            failed?.Invoke($"internal error: {e.GetType().Name}: {UrlCredentials.Redact(e.Message)}");
            return 70;
        }
    }

    public static IAnsiConsole CreateConsole(string color)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = color switch { "on" => AnsiSupport.Yes, "off" => AnsiSupport.No, _ => AnsiSupport.Detect },
            ColorSystem = color == "off" ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        // Lines are never wrapped: CI logs and scripts read one line per stage.
        console.Profile.Width = 4096;
        return console;
    }
}

/// <summary><c>--report PATH</c> of a command, and whether it is Markdown (<c>--report-format markdown</c>) rather than JSON.</summary>
internal sealed record ReportTarget(string Path, bool Markdown, string Command);
