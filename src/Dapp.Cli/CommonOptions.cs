using Dapp.Registry.Names;
using System.CommandLine;
using System.CommandLine.Parsing;
using Dapp.Commands;

namespace Dapp.Cli;

/// <summary>The options (docs/commands.md) that every command takes.</summary>
internal sealed class CommonOptions
{
    public Option<string?> Dir { get; } = new("--dir") { Description = "Work dir with the dappfile (default: current dir)", Recursive = true };
    public Option<string?> Name { get; } = new("--name") { Description = "Project name (default: from git origin or the dir name)", Recursive = true };
    public Option<bool> Quiet { get; } = new("--quiet", "-q") { Description = "Print only stage lines and errors", Recursive = true };
    public Option<bool> Verbose { get; } = new("--verbose") { Description = "Print more: timings, internal errors' details", Recursive = true };
    public Option<bool> Time { get; } = new("--time") { Description = "Print how long each built stage took", Recursive = true };
    public Option<string> Color { get; } = new("--color") { Description = "auto, on or off", DefaultValueFactory = _ => "auto", Recursive = true };
    public Option<bool> DryRun { get; } = new("--dry-run") { Description = "Say what would be done, change nothing", Recursive = true };
    public Option<string?> BuildDir { get; } = new("--build-dir") { Description = "Where build_dir mounts are kept (default ~/.dapp/builds/PROJECT)", Recursive = true };
    public Option<bool> Json { get; } = new("--json") { Description = "One JSON object per stage on stdout; other messages on stderr", Recursive = true };
    public Option<string[]> SshKey { get; } = new("--ssh-key") { Description = "Private key for remote git paths over SSH and for build commands (an ssh-agent at SSH_AUTH_SOCK); repeatable (default: the user's ssh-agent)", Recursive = true };

    public Option<string?> TmpDirPrefix { get; } = new("--tmp-dir-prefix") { Description = "Where a build's temporary directories (tmp_dir mounts) go (default: the system's temp dir)", Recursive = true };

    /// <summary>dapp's developer mode: named, so that using it says it is not supported instead of "unknown option".</summary>
    public Option<bool> Dev { get; } = new("--dev") { Description = "dapp's developer mode: not supported by this dapp", Recursive = true };

    public CommonOptions()
    {
        NumberOptions.OneOf(Color, "auto", "on", "off");
        Dev.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<bool>())
                result.AddError("--dev (dapp's developer mode, with its own stages cache) is not supported by this dapp: leave it out; "
                    + "builds reuse every unchanged stage anyway, and --introspect-* opens a shell in a stage");
        });
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Dir, Name, Quiet, Verbose, Time, Color, DryRun, BuildDir, Json, SshKey, TmpDirPrefix, Dev }) command.Add(option);
    }

    public ProjectOptions Project(ParseResult r) => new()
    {
        Dir = r.GetValue(Dir),
        Name = r.GetValue(Name),
        BuildDir = r.GetValue(BuildDir) is { } dir ? Path.GetFullPath(dir) : null,
        SshKeys = (r.GetValue(SshKey) ?? []).Select(Path.GetFullPath).ToList(),
        TmpDirPrefix = r.GetValue(TmpDirPrefix) is { } prefix ? Path.GetFullPath(prefix) : null,
    };

    /// <summary>An option dapp had on a command where it has no effect here: accepted, so that dapp's command lines keep working.</summary>
    public static Option<T> Accepted<T>(string name, string why) => new(name) { Description = $"Accepted for compatibility with dapp: {why}" };

    public OutputOptions Output(ParseResult r) => new(r.GetValue(Quiet), r.GetValue(Verbose), r.GetValue(Time), r.GetValue(Color) ?? "auto") { Json = r.GetValue(Json) };
}

/// <summary>Positional arguments: DIMG patterns, optionally followed by a required REPO.</summary>
internal static class Positionals
{
    public static Argument<string[]> Dimgs() => Reject(new Argument<string[]>("DIMG") { Arity = ArgumentArity.ZeroOrMore, Description = "Dimg name patterns (shell globs); all dimgs when none" });

    public static Argument<string[]> DimgsThenRepo() => Reject(new Argument<string[]>("DIMG... REPO") { Arity = ArgumentArity.OneOrMore, Description = "Dimg name patterns, then the repository" });

    public static (string[] Dimgs, RepositoryName Repo) Split(string[] values) => (values[..^1], Repo(values[^1]));

    /// <summary>REPO, checked and parsed once here: the commands get a <see cref="RepositoryName"/>.</summary>
    public static RepositoryName Repo(string value) => RepositoryName.FromArgument(value);

    /// <summary>An unknown option would otherwise be taken as a positional value.</summary>
    private static Argument<string[]> Reject(Argument<string[]> argument)
    {
        argument.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
                if (token.Value.StartsWith('-'))
                    result.AddError($"Unknown option '{token.Value}'");
        });
        return argument;
    }
}
