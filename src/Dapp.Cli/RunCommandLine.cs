using Dapp.Commands;

namespace Dapp.Cli;

/// <summary>
/// <c>dapp dimg run [DIMG] [DOCKER ARGS] [-- CMD...]</c> is parsed by hand: its docker arguments are options that dapp
/// does not know. dapp's own options are taken wherever they appear before <c>--</c>; the first other argument, if it
/// does not start with '-', is the DIMG.
/// </summary>
internal static class RunCommandLine
{
    private static readonly string[] ValueOptions = ["--dir", "--name", "--stage", "--build-dir", "--color", "--ssh-key"];
    private static readonly string[] FlagOptions = ["--quiet", "-q", "--verbose", "--time", "--dry-run", "--json"];

    public static async Task<int> InvokeAsync(string[] args)
    {
        var values = new Dictionary<string, string>();
        var sshKeys = new List<string>();
        var flags = new HashSet<string>();
        var rest = new List<string>();
        var command = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--") { command.AddRange(args[(i + 1)..]); break; }
            var eq = arg.IndexOf('=');
            var key = eq > 0 ? arg[..eq] : arg;
            if (ValueOptions.Contains(key))
            {
                if (eq > 0) values[key] = arg[(eq + 1)..];
                else if (i + 1 < args.Length) values[key] = args[++i];
                else { Console.Error.WriteLine($"Error: {key} needs a value"); return 1; }
                // Repeatable: the git paths of a private repository need their keys here too.
                if (key == "--ssh-key") sshKeys.Add(Path.GetFullPath(values[key]));
            }
            else if (FlagOptions.Contains(arg)) flags.Add(arg);
            else rest.Add(arg);
        }
        string[] dimgs = rest.Count > 0 && !rest[0].StartsWith('-') ? [rest[0]] : [];
        var dockerArgs = rest.Skip(dimgs.Length).ToList();

        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancellation.Cancel(); };
        var output = new OutputOptions(flags.Contains("--quiet") || flags.Contains("-q"), flags.Contains("--verbose"), flags.Contains("--time"), values.GetValueOrDefault("--color", "auto"))
        {
            Json = flags.Contains("--json"),
        };
        var projectOptions = new ProjectOptions { Dir = values.GetValueOrDefault("--dir"), Name = values.GetValueOrDefault("--name"), BuildDir = values.GetValueOrDefault("--build-dir"), SshKeys = sshKeys };
        return await CommandRunner.RunAsync(projectOptions, output, cancellation.Token, (project, reporter) =>
            RunCommand.RunAsync(project, dimgs, values.GetValueOrDefault("--stage"), dockerArgs, command, flags.Contains("--dry-run"),
                line => { if (output.Verbose || flags.Contains("--dry-run")) reporter.Info(line); }, cancellation.Token));
    }
}
