using Dapp.Commands;
using Dapp.Config;
using Dapp.Reporting;
using Spectre.Console;

namespace Dapp.Cli;

/// <summary>Runs a command body with a loaded project; turns failures into messages and exit codes.</summary>
internal static class CommandRunner
{
    public static Task<int> RunAsync(ProjectOptions projectOptions, OutputOptions output, CancellationToken ct,
        Func<DappProject, IReporter, Task<int>> body) =>
        RunWithoutProjectAsync(output, ct, async reporter =>
        {
            using var project = await DappProject.LoadAsync(projectOptions, ct, reporter.Warning);
            return await body(project, reporter);
        });

    /// <summary>A command that needs no dappfile (mrproper).</summary>
    public static async Task<int> RunWithoutProjectAsync(OutputOptions output, CancellationToken ct, Func<IReporter, Task<int>> body)
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
            return 130;
        }
        catch (DappException e)
        {
            Console.Error.WriteLine($"Error: {UrlCredentials.Redact(e.Message)}");
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"Internal error: {e.GetType().Name}: {UrlCredentials.Redact(e.Message)}");
            if (output.Verbose) Console.Error.WriteLine(UrlCredentials.Redact(e.ToString()));
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
