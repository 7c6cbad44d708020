using System.CommandLine;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Build;
using Dapp.Commands;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Transfer;

namespace Dapp.Cli;

/// <summary>The <c>dapp dimg …</c> command tree. Only parsing and rendering here; behaviour lives in Dapp.Commands.</summary>
internal static class DappCommandLine
{
    public static RootCommand Create()
    {
        var common = new CommonOptions();
        var root = new RootCommand("dapp: build Docker images in content-addressed stages and share the stages cache between build hosts");
        common.AddTo(root);

        var dimg = new Command("dimg", "Build, tag, run and clean up dimgs");
        root.Add(dimg);
        dimg.Add(Build(common));
        dimg.Add(Plan(common));
        dimg.Add(AcceptLockTimeout(Push(common, "push", simple: false, buildFirst: false)));
        dimg.Add(AcceptLockTimeout(Push(common, "spush", simple: true, buildFirst: false)));
        dimg.Add(Push(common, "bp", simple: false, buildFirst: true));
        dimg.Add(List(common));
        dimg.Add(Tag(common));
        dimg.Add(new Command("run", "Run a dimg: dapp dimg run [DIMG] [DOCKER ARGS] [-- CMD...] (options --stage STAGE, --dir, --name)"));
        dimg.Add(AcceptLockTimeout(Cleanup(common)));
        dimg.Add(Mrproper(common));
        dimg.Add(Render(common));

        var stage = new Command("stage", "Stage images");
        stage.Add(StageImage(common));
        dimg.Add(stage);

        var stages = new Command("stages", "The stages cache");
        var stagesFlush = new Command("flush", "Remove stages");
        stagesFlush.Add(StagesFlushLocal(common));
        stagesFlush.Add(AcceptLockTimeout(StagesFlushRepo(common)));
        stages.Add(stagesFlush);
        stages.Add(StagesPush(common));
        stages.Add(StagesPull(common));
        var stagesCleanup = new Command("cleanup", "Delete stages that are no longer needed");
        stagesCleanup.Add(AcceptLockTimeout(StagesCleanupRepo(common)));
        stagesCleanup.Add(AcceptLockTimeout(StagesCleanupLocal(common)));
        stages.Add(stagesCleanup);
        dimg.Add(stages);

        var flush = new Command("flush", "Remove dimg images");
        flush.Add(FlushLocal(common));
        flush.Add(AcceptLockTimeout(FlushRepo(common)));
        dimg.Add(flush);
        return root;
    }

    /// <summary>dapp took --lock-timeout on these commands too; here they wait on no lock, so it is accepted and has no effect.</summary>
    private static Command AcceptLockTimeout(Command command)
    {
        command.Add(NumberOptions.Create("--lock-timeout", 0, BuildOptionSet.MaxLockTimeout, 0, "seconds",
            "Accepted for compatibility with dapp: this command waits on no lock"));
        return command;
    }

    private static Command Build(CommonOptions common)
    {
        var command = new Command("build", "Build the dimgs' stages that are not in the local stages cache");
        var dimgs = Positionals.Dimgs();
        var build = new BuildOptionSet();
        var storage = new StagesStorageOptionSet();
        var report = new ReportOptionSet();
        command.Add(dimgs);
        build.AddTo(command);
        storage.AddTo(command);
        report.AddTo(command);
        command.SetAction((r, ct) => CommandRunner.RunAsync(common.Project(r), common.Output(r), ct, async (project, reporter) =>
        {
            await BuildCommand.RunAsync(project, r.GetValue(dimgs) ?? [], build.Get(r, common), storage.Get(r, common), reporter, ct);
            return 0;
        }, report.Get(r, "dimg build")));
        return command;
    }

    private static Command Plan(CommonOptions common)
    {
        var command = new Command("plan", "Say what a build would do with each stage, and why each stage to build is built; build, pull and push nothing");
        var dimgs = Positionals.Dimgs();
        var storage = new StagesStorageOptionSet();
        var report = new ReportOptionSet();
        command.Add(dimgs);
        storage.AddTo(command);
        report.AddTo(command);
        command.SetAction((r, ct) => CommandRunner.RunAsync(common.Project(r), common.Output(r), ct, async (project, reporter) =>
        {
            await PlanCommand.RunAsync(project, r.GetValue(dimgs) ?? [], storage.Get(r, common) with { Summary = false }, reporter, ct);
            return 0;
        }, report.Get(r, "dimg plan")));
        return command;
    }

    private static Command Push(CommonOptions common, string name, bool simple, bool buildFirst)
    {
        var description = (simple, buildFirst) switch
        {
            (true, _) => "Push one dimg as REPO:TAG",
            (_, true) => "Build the dimgs, then push them as REPO/DIMG:TAG",
            _ => "Push the built dimgs as REPO/DIMG:TAG",
        };
        var command = new Command(name, description);
        var args = Positionals.DimgsThenRepo();
        var tags = new TagOptionSet();
        var storage = new StagesStorageOptionSet();
        var withStages = new Option<bool>("--with-stages") { Description = "Push the dimgs' stages first (dapp dimg stages push)" };
        var build = new BuildOptionSet();
        var report = new ReportOptionSet();
        command.Add(args);
        tags.AddTo(command);
        storage.AddTo(command);
        if (!simple) report.AddTo(command);
        // spush pushes one dimg and no stages; dapp accepted --with-stages there and ignored it.
        command.Add(simple ? CommonOptions.Accepted<bool>("--with-stages", "spush pushes no stages (use push --with-stages or stages push)") : withStages);
        if (buildFirst) build.AddTo(command);
        command.SetAction((r, ct) => CommandRunner.RunAsync(common.Project(r), common.Output(r), ct, async (project, reporter) =>
        {
            var (dimgs, repo) = Positionals.Split(r.GetValue(args)!);
            var stagesStorage = storage.Get(r, common);
            if (buildFirst) await BuildCommand.RunAsync(project, dimgs, build.Get(r, common), stagesStorage with { Summary = false }, reporter, ct);
            await PushCommand.RunAsync(project, dimgs, repo, new PushOptions
            {
                Tags = tags.Get(r),
                WithStages = !simple && r.GetValue(withStages),
                Simple = simple,
                DryRun = r.GetValue(common.DryRun),
                AfterBuild = buildFirst,
            }, stagesStorage, reporter, ct);
            return 0;
        }, simple ? null : report.Get(r, $"dimg {name}")));
        return command;
    }

    private static Command StagesPush(CommonOptions common)
    {
        var args = Positionals.DimgsThenRepo();
        var registry = new RegistryOptionSet(transfers: true);
        var report = new ReportOptionSet();
        var command = ProjectCommand(common, "push", "Push the local stages of the dimgs to REPO:dimgstage-SIGNATURE", [args], (project, reporter, r, ct) =>
        {
            var (dimgs, repo) = Positionals.Split(r.GetValue(args)!);
            return StagesPushCommand.RunAsync(project, dimgs, repo, r.GetValue(common.DryRun), registry.Get(r, common), registry.Transfers(r), reporter, ct);
        }, r => report.Get(r, "dimg stages push"));
        registry.AddTo(command);
        report.AddTo(command);
        return command;
    }

    private static Command StagesPull(CommonOptions common)
    {
        var args = Positionals.DimgsThenRepo();
        var registry = new RegistryOptionSet(pulls: true);
        var all = new Option<bool>("--all") { Description = "Pull every stage of the chains that the registry has, not only the latest" };
        var report = new ReportOptionSet();
        var command = ProjectCommand(common, "pull", "Pull the stages cache of the dimgs from REPO: the latest stage of each chain that this host lacks",
            [args, all], (project, reporter, r, ct) =>
            {
                var (dimgs, repo) = Positionals.Split(r.GetValue(args)!);
                return StagesPullCommand.RunAsync(project, dimgs, repo, r.GetValue(all), r.GetValue(common.DryRun), registry.Get(r, common), registry.Transfers(r), reporter, ct);
            }, r => report.Get(r, "dimg stages pull"));
        report.AddTo(command);
        registry.AddTo(command);
        return command;
    }

    private static Command StagesCleanupRepo(CommonOptions common)
    {
        var repo = new Argument<string>("REPO") { Description = "The repository of the stages" };
        var registry = new RegistryOptionSet();
        var policies = new StagesCleanupOptionSet();
        var command = ProjectCommand(common, "repo", "Delete the stages of REPO that the policies select, except those younger than --keep-younger-than",
            [repo], (project, reporter, r, ct) =>
                StagesCleanupCommand.RepoAsync(project, Positionals.Repo(r.GetValue(repo)!), policies.Get(r, common), registry.Get(r, common), reporter, ct));
        policies.AddTo(command);
        registry.AddTo(command);
        return command;
    }

    private static Command StagesCleanupLocal(CommonOptions common)
    {
        var repo = new Argument<string?>("REPO") { Arity = ArgumentArity.ZeroOrOne, Description = "The repository whose dimg tags say which stages to keep (--improper-repo-cache)" };
        var registry = new RegistryOptionSet();
        var policies = new StagesCleanupOptionSet();
        var command = ProjectCommand(common, "local", "Remove this host's stages that the policies select, except those younger than --keep-younger-than or used by a container",
            [repo], (project, reporter, r, ct) =>
                StagesCleanupCommand.LocalAsync(project, r.GetValue(repo) is { } given ? Positionals.Repo(given) : null, policies.Get(r, common), registry.Get(r, common), reporter, ct));
        policies.AddTo(command);
        registry.AddTo(command);
        return command;
    }

    private static Command DimgCleanupRepo(CommonOptions common)
    {
        var args = Positionals.DimgsThenRepo();
        var registry = new RegistryOptionSet();
        var withStages = new Option<bool>("--with-stages") { Description = "Then delete the stages of REPO that no remaining dimg tag is built on, and those of another cache version" };
        var keepYounger = StagesCleanupOptionSet.KeepYoungerThan();
        var command = ProjectCommand(common, "repo", "Delete the dimg tags of REPO whose git branch, tag or commit is gone, or beyond dapp's limits",
            [args, withStages, keepYounger], (project, reporter, r, ct) =>
            {
                var (dimgs, repo) = Positionals.Split(r.GetValue(args)!);
                return DimgCleanupRepoCommand.RunAsync(project, dimgs, repo, new DimgCleanupOptions
                {
                    WithStages = r.GetValue(withStages),
                    KeepYoungerThan = StagesCleanupOptionSet.Grace(r, keepYounger),
                    DryRun = r.GetValue(common.DryRun),
                }, registry.Get(r, common), reporter, ct);
            });
        registry.AddTo(command);
        return command;
    }

    private static Command Render(CommonOptions common)
    {
        var command = new Command("render", "Print the dappfile as its Go templates render it");
        command.SetAction((r, ct) => CommandRunner.RunWithoutProjectAsync(common.Output(r), ct, async reporter =>
        {
            Console.Out.Write(await RenderCommand.RunAsync(common.Project(r), reporter, ct));
            return 0;
        }));
        return command;
    }

    private static Command Mrproper(CommonOptions common)
    {
        var all = new Option<bool>("--all") { Description = "Every dapp build container and image of every project, and the caches under DAPP_HOME" };
        var cacheVersion = new Option<bool>("--improper-cache-version-stages") { Description = "Stage images of every project of another cache version" };
        var devMode = new Option<bool>("--improper-dev-mode-cache") { Description = "dapp's dev-mode stages (this dapp makes none)" };
        var force = ForceOption();
        var command = new Command("mrproper", "Remove what dapp made on this host, for every project; needs no dappfile");
        foreach (var option in new Option[] { all, cacheVersion, devMode, force }) command.Add(option);
        command.SetAction((r, ct) => CommandRunner.RunWithoutProjectAsync(common.Output(r), ct, async reporter =>
        {
            await MrproperCommand.RunAsync(common.Project(r), new MrproperOptions
            {
                All = r.GetValue(all),
                ImproperCacheVersionStages = r.GetValue(cacheVersion),
                ImproperDevModeCache = r.GetValue(devMode),
                DryRun = r.GetValue(common.DryRun),
                Force = r.GetValue(force),
            }, reporter, ct);
            return 0;
        }));
        return command;
    }

    private static Command StagesFlushRepo(CommonOptions common)
    {
        var repo = new Argument<string>("REPO") { Description = "The repository" };
        var registry = new RegistryOptionSet();
        var command = ProjectCommand(common, "repo", "Delete the stages (dimgstage-* tags) of REPO", [repo],
            (project, reporter, r, ct) => FlushRepoCommands.StagesFlushRepoAsync(project, Positionals.Repo(r.GetValue(repo)!), r.GetValue(common.DryRun), registry.Get(r, common), reporter, ct));
        registry.AddTo(command);
        return command;
    }

    private static Command FlushRepo(CommonOptions common)
    {
        var args = Positionals.DimgsThenRepo();
        var registry = new RegistryOptionSet();
        var withStages = new Option<bool>("--with-stages") { Description = "Also delete the stages of REPO" };
        var command = ProjectCommand(common, "repo", "Delete the dimg images of REPO", [args, withStages], (project, reporter, r, ct) =>
        {
            var (dimgs, repo) = Positionals.Split(r.GetValue(args)!);
            return FlushRepoCommands.FlushRepoAsync(project, dimgs, repo, r.GetValue(withStages), r.GetValue(common.DryRun), registry.Get(r, common), reporter, ct);
        });
        registry.AddTo(command);
        return command;
    }

    private static Command List(CommonOptions common)
    {
        var command = new Command("list", "Print the names of the dimgs");
        var dimgs = Positionals.Dimgs();
        command.Add(dimgs);
        command.SetAction((r, ct) => CommandRunner.RunAsync(common.Project(r), common.Output(r), ct, (project, reporter) =>
        {
            foreach (var d in project.Dappfile.SelectDimgs(r.GetValue(dimgs) ?? []))
            {
                if (reporter is JsonReporter json) json.Dimg(d.Name);
                else Console.WriteLine(d.DisplayName);
            }
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Tag(CommonOptions common)
    {
        var command = new Command("tag", "Tag the built dimgs locally as REPO/DIMG:TAG");
        var args = Positionals.DimgsThenRepo();
        var tagOptions = new TagOptionSet();
        command.Add(args);
        tagOptions.AddTo(command);
        command.SetAction((r, ct) => CommandRunner.RunAsync(common.Project(r), common.Output(r), ct, async (project, reporter) =>
        {
            var (dimgs, repo) = Positionals.Split(r.GetValue(args)!);
            await TagCommand.RunAsync(project, dimgs, repo, tagOptions.Get(r), r.GetValue(common.DryRun), reporter, ct);
            return 0;
        }));
        return command;
    }

    private static Command StageImage(CommonOptions common)
    {
        var command = new Command("image", "Print the local image name of a dimg's stage");
        var dimgs = Positionals.Dimgs();
        var stage = new Option<string>("--stage") { Description = "Stage name (default: docker_instructions)", DefaultValueFactory = _ => "docker_instructions" };
        command.Add(dimgs);
        command.Add(stage);
        command.SetAction((r, ct) => CommandRunner.RunAsync(common.Project(r), common.Output(r), ct, async (project, reporter) =>
        {
            var found = await StageImageCommand.RunAsync(project, r.GetValue(dimgs) ?? [], r.GetValue(stage)!, ct);
            if (reporter is JsonReporter json) json.StageImage(found.Dimg, r.GetValue(stage)!, found.Image);
            else Console.WriteLine(found.Image);
            return 0;
        }));
        return command;
    }

    /// <summary>--force of the local cleanups: remove images that the user's containers use too.</summary>
    private static Option<bool> ForceOption() =>
        new("--force") { Description = "Remove images that containers of yours use too (they are kept and named otherwise); the containers stay" };

    private static Command StagesFlushLocal(CommonOptions common)
    {
        var force = ForceOption();
        return ProjectCommand(common, "local", "Remove the project's local stage images, build containers and dangling images", [force],
            (project, reporter, r, ct) => CleanupCommands.StagesFlushLocalAsync(project, r.GetValue(common.DryRun), r.GetValue(force), reporter, ct));
    }

    private static Command FlushLocal(CommonOptions common)
    {
        var force = ForceOption();
        var withStages = new Option<bool>("--with-stages") { Description = "Also remove the local stages" };
        var dimgs = new Argument<string[]>("DIMG") { Arity = ArgumentArity.ZeroOrMore, Description = "Accepted for compatibility with dapp, which ignored them too: every dimg of the project goes" };
        return ProjectCommand(common, "local", "Remove the project's local dimg images", [withStages, dimgs, force], (project, reporter, r, ct) =>
        {
            if (r.GetValue(dimgs) is { Length: > 0 } given)
                reporter.Info($"flush local removes the images of every dimg of the project, as dapp did: the DIMG arguments ({string.Join(' ', given)}) are ignored");
            return CleanupCommands.FlushLocalAsync(project, r.GetValue(withStages), r.GetValue(common.DryRun), r.GetValue(force), reporter, ct);
        });
    }

    /// <summary><c>dimg cleanup</c> removes the project's leftovers; <c>dimg cleanup repo</c> is the git-history policy for REPO's dimg tags.</summary>
    private static Command Cleanup(CommonOptions common)
    {
        var force = ForceOption();
        var command = ProjectCommand(common, "cleanup", "Remove the project's leftover build containers, temp spools and dangling images", [force],
            (project, reporter, r, ct) => CleanupCommands.CleanupAsync(project, r.GetValue(common.DryRun), r.GetValue(force), reporter, ct));
        command.Add(DimgCleanupRepo(common));
        return command;
    }

    /// <summary>A command whose whole behaviour is one library call on the loaded project.</summary>
    private static Command ProjectCommand(CommonOptions common, string name, string description, Symbol[] symbols,
        Func<DappProject, IReporter, ParseResult, CancellationToken, Task> action, Func<ParseResult, ReportTarget?>? report = null)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            if (symbol is Option option) command.Add(option);
            else if (symbol is Argument argument) command.Add(argument);
        }
        command.SetAction((r, ct) => CommandRunner.RunAsync(common.Project(r), common.Output(r), ct, async (project, reporter) =>
        {
            await action(project, reporter, r, ct);
            return 0;
        }, report?.Invoke(r)));
        return command;
    }
}

/// <summary>The stages cleanup policies and their grace period (docs/cleanup.md), shared by stages cleanup repo and local.</summary>
internal sealed class StagesCleanupOptionSet
{
    private readonly Option<bool> _repoCache = new("--improper-repo-cache") { Description = "Delete stages that no dimg tag of REPO is built on (its chain and the artifacts it imports)" };
    private readonly Option<bool> _cacheVersion = new("--improper-cache-version") { Description = "Delete stages of another cache version" };
    private readonly Option<bool> _gitCommit = new("--improper-git-commit") { Description = "Delete stages whose recorded git commit no longer exists in its repository" };
    private readonly Option<string> _keepYounger = KeepYoungerThan();

    public static Option<string> KeepYoungerThan()
    {
        var option = new Option<string>("--keep-younger-than") { Description = "Never delete stages younger than this (30s, 15m, 2h, 1d)", DefaultValueFactory = _ => "2h" };
        option.Validators.Add(result =>
        {
            if (!Durations.TryParse(result.GetValueOrDefault<string>(), out _))
                result.AddError($"--keep-younger-than '{result.GetValueOrDefault<string>()}': expected a number and a unit, s, m, h or d (for example 2h or 0s)");
        });
        return option;
    }

    public static TimeSpan Grace(ParseResult r, Option<string> option)
    {
        Durations.TryParse(r.GetValue(option), out var grace);
        return grace;
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _repoCache, _cacheVersion, _gitCommit, _keepYounger }) command.Add(option);
    }

    public StagesCleanupOptions Get(ParseResult r, CommonOptions common) => new()
    {
        ImproperRepoCache = r.GetValue(_repoCache),
        ImproperCacheVersion = r.GetValue(_cacheVersion),
        ImproperGitCommit = r.GetValue(_gitCommit),
        KeepYoungerThan = Grace(r, _keepYounger),
        DryRun = r.GetValue(common.DryRun),
    };
}

/// <summary>Durations as the cleanup options take them: a number and a unit, <c>30s</c>, <c>15m</c>, <c>2h</c>, <c>1d</c>.</summary>
internal static class Durations
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || text.Length < 2
            || !long.TryParse(text[..^1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            || value > 100_000) return false;
        TimeSpan? parsed = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(value),
            'm' => TimeSpan.FromMinutes(value),
            'h' => TimeSpan.FromHours(value),
            'd' => TimeSpan.FromDays(value),
            _ => null,
        };
        duration = parsed ?? TimeSpan.Zero;
        return parsed is not null;
    }
}

/// <summary>The options of dapp dimg build (also taken by bp).</summary>
internal sealed class BuildOptionSet
{
    private readonly Option<string?> _network = new("--network") { Description = "Network mode of build containers (default: the engine's default network)" };
    /// <summary>dapp's default: a day.</summary>
    public const int MaxLockTimeout = 86400 * 365;

    private readonly Option<int> _lockTimeout = NumberOptions.Create("--lock-timeout", 0, MaxLockTimeout, 86400, "seconds", "Seconds to wait for another dapp building the same stage");
    private readonly Option<int> _jobs = NumberOptions.Create("--jobs", 1, 64, BuildOptions.DefaultJobs, "chains",
        "How many dimgs and artifacts that do not depend on each other build at once (1: one after another)");
    private readonly Option<bool> _forceSaveCache = new("--force-save-cache") { Description = "Accepted for compatibility: every built stage is always kept" };
    private readonly Option<string?> _introspectStage = new("--introspect-stage") { Description = "A shell in a dimg's stage STAGE after this build builds it (needs a terminal)" };
    private readonly Option<string?> _introspectBefore = new("--introspect-before") { Description = "A shell in the state a dimg's stage STAGE starts from, before this build builds it" };
    private readonly Option<string?> _introspectArtifactStage = new("--introspect-artifact-stage") { Description = "--introspect-stage for artifacts" };
    private readonly Option<string?> _introspectArtifactBefore = new("--introspect-artifact-before") { Description = "--introspect-before for artifacts" };
    private readonly Option<bool> _introspectError = new("--introspect-error") { Description = "A shell in the state a failed stage left" };
    private readonly Option<bool> _introspectBeforeError = new("--introspect-before-error") { Description = "A shell in the state a failed stage started from" };

    public BuildOptionSet()
    {
        foreach (var (option, order) in new[] { (_introspectStage, StageNames.DimgOrder), (_introspectBefore, StageNames.DimgOrder),
                     (_introspectArtifactStage, StageNames.ArtifactOrder), (_introspectArtifactBefore, StageNames.ArtifactOrder) })
            option.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<string?>() is { } name && (StageNames.Parse(name) is not { } stage || !order.Contains(stage)))
                    result.AddError($"{option.Name} {name}: not a stage; expected one of {string.Join(", ", order.Select(s => s.DappName()))}");
            });
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _network, _jobs, _lockTimeout, _forceSaveCache, _introspectStage, _introspectBefore, _introspectArtifactStage,
                     _introspectArtifactBefore, _introspectError, _introspectBeforeError })
            command.Add(option);
    }

    public BuildOptions Get(ParseResult r, CommonOptions common)
    {
        var introspect = new Introspection
        {
            DimgStage = Stage(r.GetValue(_introspectStage)),
            DimgBefore = Stage(r.GetValue(_introspectBefore)),
            ArtifactStage = Stage(r.GetValue(_introspectArtifactStage)),
            ArtifactBefore = Stage(r.GetValue(_introspectArtifactBefore)),
            OnError = r.GetValue(_introspectError),
            BeforeError = r.GetValue(_introspectBeforeError),
        };
        // An interactive shell needs someone at a terminal: in a CI job it would wait for input that never comes.
        if (introspect.Any && (Console.IsInputRedirected || Console.IsOutputRedirected))
            throw new DappException("the --introspect-* options open an interactive shell and need a terminal (stdin and stdout); "
                + "this dapp runs without one (a CI job?): run the build from a terminal, or leave the option out");
        return new()
        {
            Network = r.GetValue(_network),
            LockTimeout = TimeSpan.FromSeconds(r.GetValue(_lockTimeout)),
            Jobs = r.GetValue(_jobs),
            DryRun = r.GetValue(common.DryRun),
            Introspect = introspect,
        };
    }

    private static StageName? Stage(string? name) => name is null ? null : StageNames.Parse(name);
}

/// <summary>The options of commands that talk to a registry.</summary>
internal sealed class RegistryOptionSet
{
    private readonly Option<string?> _username = new("--registry-username") { Description = "Registry user (used only with --registry-password)" };
    private readonly Option<string?> _password = new("--registry-password") { Description = "Registry password (used only with --registry-username)" };
    private readonly Option<string[]> _insecure = new("--insecure-registry") { Description = "HOST[:PORT] of a registry reached over plain http; repeatable (loopback always is)" };
    private readonly Option<int> _parallel = NumberOptions.Create("--parallel", 1, MaxParallel, StagesTransferOptions.DefaultParallel, "transfers", "Stage transfers at a time");
    private readonly Option<string> _transfer = new("--transfer") { Description = "How pulled stages enter the engine: engine (its own pull) or load (our client and the engine's load API)", DefaultValueFactory = _ => "engine" };

    /// <summary>More transfers at once only queue at the engine and the registry; this bound catches a typo.</summary>
    public const int MaxParallel = 64;

    public RegistryOptionSet(bool transfers = false, bool pulls = false)
    {
        (_transfers, _pulls) = (transfers || pulls, pulls);
        NumberOptions.OneOf(_transfer, "engine", "load");
        _insecure.Validators.Add(result =>
        {
            foreach (var host in result.GetValueOrDefault<string[]>() ?? [])
                if (!Dapp.Registry.Names.DockerNames.IsValidRegistryHost(host))
                    result.AddError($"--insecure-registry '{host}': expected HOST or HOST:PORT (for example registry.local:5000)");
        });
    }

    /// <summary>--parallel only where stages are transferred, --transfer only where they are pulled.</summary>
    private readonly bool _transfers;
    private readonly bool _pulls;

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _username, _password, _insecure }) command.Add(option);
        if (_transfers) command.Add(_parallel);
        if (_pulls) command.Add(_transfer);
    }

    /// <summary>How the registry is reached: credentials, plain-http hosts, where requests and warnings are written.</summary>
    public RegistryClientOptions Get(ParseResult r, CommonOptions common)
    {
        var (username, password) = (r.GetValue(_username), r.GetValue(_password));
        return new RegistryClientOptions
        {
            Log = r.GetValue(common.Verbose) ? line => Console.Error.WriteLine(UrlCredentials.Redact(line)) : null,
            Warn = line => Console.Error.WriteLine($"Warning: {UrlCredentials.Redact(line)}"),
            // Used only when both are given, as dapp did.
            Credential = username is { Length: > 0 } && password is { Length: > 0 } ? new RegistryCredential(username, password) : null,
            InsecureRegistries = r.GetValue(_insecure) ?? [],
        };
    }

    /// <summary>How stages move: --parallel and --transfer where the command has them, the defaults elsewhere.</summary>
    public StagesTransferOptions Transfers(ParseResult r) => new()
    {
        Parallel = _transfers ? r.GetValue(_parallel) : StagesTransferOptions.DefaultParallel,
        LoadPath = _pulls && r.GetValue(_transfer) == "load",
    };
}

/// <summary>
/// <c>--stages-storage REPO</c> (docs/distributed.md) with the registry options it needs; on push and bp the registry
/// options serve both REPOs.
/// </summary>
internal sealed class StagesStorageOptionSet
{
    private readonly Option<string?> _repo = new("--stages-storage") { Description = "REPO that is the stages cache (REPO:dimgstage-SIGNATURE): stages are looked up there, only what a build needs is pulled, new stages are pushed as they are built, dimg images are made inside the registry" };
    private readonly RegistryOptionSet _registry = new(pulls: true);

    public StagesStorageOptionSet() => _repo.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<string?>() is { } repo && !Dapp.Registry.Names.DockerNames.IsValidRepo(repo))
            result.AddError($"--stages-storage '{repo}': expected a repository, [HOST[:PORT]/]NAME[/NAME...] in lowercase (for example registry.local:5000/my-project)");
    });

    public void AddTo(Command command)
    {
        command.Add(_repo);
        _registry.AddTo(command);
    }

    public StagesStorageOption Get(ParseResult r, CommonOptions common) =>
        new(r.GetValue(_repo) is { } repo ? RepositoryName.FromArgument(repo) : null, _registry.Get(r, common), _registry.Transfers(r));
}

/// <summary><c>--report PATH</c> and <c>--report-format json|markdown</c> (docs/json.md).</summary>
internal sealed class ReportOptionSet
{
    private readonly Option<string?> _path = new("--report") { Description = "When the command ends (also when it fails), write what it did with each stage and its totals to this file" };
    private readonly Option<string> _format = new("--report-format") { Description = "json (default) or markdown (a summary for a CI job's page)", DefaultValueFactory = _ => "json" };

    public ReportOptionSet() => NumberOptions.OneOf(_format, "json", "markdown");

    public void AddTo(Command command)
    {
        command.Add(_path);
        command.Add(_format);
    }

    /// <param name="command">How the report names the command: "dimg build", "dimg bp", ….</param>
    public ReportTarget? Get(ParseResult r, string command) =>
        r.GetValue(_path) is { Length: > 0 } path ? new ReportTarget(Path.GetFullPath(path), r.GetValue(_format) == "markdown", command) : null;
}

/// <summary>The tag options (docs/commands.md).</summary>
internal sealed class TagOptionSet
{
    private readonly Option<string[]> _tag = new("--tag", "--tag-slug") { Description = "Tag (slugified); repeatable", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string[]> _plain = new("--tag-plain") { Description = "Tag used as given; repeatable" };
    private readonly Option<bool> _branch = new("--tag-branch") { Description = "Tag with the current git branch" };
    private readonly Option<bool> _commit = new("--tag-commit") { Description = "Tag with the HEAD commit" };
    private readonly Option<bool> _buildId = new("--tag-build-id") { Description = "Tag with the CI build id" };
    private readonly Option<bool> _ci = new("--tag-ci") { Description = "Tag with the CI git tag, else the CI branch" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _tag, _plain, _branch, _commit, _buildId, _ci }) command.Add(option);
    }

    public TagOptions Get(System.CommandLine.ParseResult r) => new()
    {
        Tags = r.GetValue(_tag) ?? [],
        PlainTags = r.GetValue(_plain) ?? [],
        Branch = r.GetValue(_branch),
        Commit = r.GetValue(_commit),
        BuildId = r.GetValue(_buildId),
        Ci = r.GetValue(_ci),
    };
}
