using Dapp.Registry.Names;
using static Dapp.Config.YamlReader;

namespace Dapp.Config;

/// <summary>Turns rendered dappfile text into a validated <see cref="Dappfile"/> (docs/dappfile.md).</summary>
internal static class DappfileParser
{
    private static readonly string[] CommonKeys = ["from", "fromCacheVersion", "fromDimg", "fromDimgArtifact", "git", "shell", "ansible", "mount", "import"];
    private static readonly string[] DimgKeys = ["dimg", .. CommonKeys, "docker"];
    private static readonly string[] ArtifactKeys = ["artifact", .. CommonKeys];
    private static readonly string[] DockerKeys = ["VOLUME", "EXPOSE", "CMD", "ENTRYPOINT", "ENV", "LABEL", "WORKDIR", "USER", "ONBUILD"];
    private static readonly string[] GitKeys = ["url", "add", "to", "owner", "group", "includePaths", "excludePaths", "branch", "tag", "commit", "stageDependencies"];
    private static readonly string[] MountKeys = ["to", "from", "fromPath"];
    private static readonly string[] ImportKeys = ["artifact", "add", "to", "includePaths", "excludePaths", "owner", "group", "before", "after"];

    /// <summary>dapp's keys this dapp parses but does not implement: a clear refusal instead of "unknown key".</summary>
    private static readonly Dictionary<string, string> Unsupported = new()
    {
        ["asLayers"] = "asLayers (dapp's experimental build of shell stages as separate image layers) is not supported: remove it; stages are built as usual",
        ["as"] = "git 'as' (dapp's named git paths for the asLayers build) is not supported: remove it",
    };

    private static void RejectUnsupported(YMapping map)
    {
        foreach (var (key, _) in map.Entries)
            if (Unsupported.TryGetValue(key.Value, out var why))
                throw new DappfileException(key.Location, why);
    }

    /// <summary>Dimg and artifact names go into image names (REPO/NAME), which registries limit to 255 characters.</summary>
    public const int MaxNameLength = 128;

    public static Dappfile Parse(string text, string path)
    {
        var file = System.IO.Path.GetFileName(path);
        var images = new List<ImageConfig>();
        foreach (var document in YamlDocuments.Parse(text, file))
        {
            if (document is null || document is YScalar { IsNull: true }) continue;
            images.AddRange(ParseDocument(Mapping(document, "a dappfile document")));
        }
        var dappfile = new Dappfile(path,
            images.Where(i => i.Kind == ImageKind.Dimg).ToList(),
            images.Where(i => i.Kind == ImageKind.Artifact).ToList());
        Validate(dappfile, file);
        return dappfile;
    }

    private static IEnumerable<ImageConfig> ParseDocument(YMapping doc)
    {
        var hasDimg = doc.Entries.Any(e => e.Key.Value == "dimg");
        var hasArtifact = doc.Entries.Any(e => e.Key.Value == "artifact");
        if (hasDimg && hasArtifact)
            throw new DappfileException(doc.Entries.First(e => e.Key.Value == "artifact").Key.Location, "a document is either a dimg or an artifact, not both");
        if (!hasDimg && !hasArtifact)
            throw new DappfileException(doc.Location, "a document must have 'dimg: NAME' or 'artifact: NAME'");

        var kind = hasDimg ? ImageKind.Dimg : ImageKind.Artifact;
        RejectUnsupported(doc);
        RejectUnknownKeys(doc, kind == ImageKind.Dimg ? "a dimg" : "an artifact", kind == ImageKind.Dimg ? DimgKeys : ArtifactKeys);
        var nameEntry = doc.Entries.First(e => e.Key.Value is "dimg" or "artifact");
        var names = ParseNames(nameEntry.Value, kind);
        var template = ParseBody(doc, kind, nameEntry.Key.Location);
        return names.Select(n => template with { Name = n.Name, Location = n.Location });
    }

    private static IReadOnlyList<(string? Name, SourceLocation Location)> ParseNames(YNode node, ImageKind kind)
    {
        var what = kind == ImageKind.Dimg ? "dimg" : "artifact";
        var names = node switch
        {
            YScalar s when s.IsNull => [(null, s.Location)],
            YScalar s => [(s.Value, s.Location)],
            YSequence seq => seq.Items.Select(i => ((string?)String(i, $"each {what} name"), i.Location)).ToList(),
            _ => throw new DappfileException(node.Location, $"{what} must be a name or a list of names"),
        };
        if (names.Count == 0) throw new DappfileException(node.Location, $"{what} name list is empty");
        foreach (var (name, location) in names)
        {
            if (name is null && kind == ImageKind.Artifact)
                throw new DappfileException(location, "an artifact must have a name");
            if (name is not null && !DockerNames.IsValidPathComponent(name))
                throw new DappfileException(location, $"invalid {what} name '{Shorten(name)}': use lowercase letters, digits and inner '.', '_', '__' or '-'");
            if (name is not null && name.Length > MaxNameLength)
                throw new DappfileException(location, $"{what} name '{Shorten(name)}' is longer than {MaxNameLength} characters (it becomes part of image names)");
        }
        return names;
    }

    private static ImageConfig ParseBody(YMapping doc, ImageKind kind, SourceLocation location)
    {
        if (doc.KeyLocation("shell") is not null && doc.KeyLocation("ansible") is { } ansible)
            throw new DappfileException(ansible, $"'shell' and 'ansible' cannot be used together: an image's stages are built by one of them (shell at {doc.KeyLocation("shell")})");

        var fromKeys = new[] { "from", "fromDimg", "fromDimgArtifact" }.Where(k => doc.Get(k) is not null).ToList();
        if (fromKeys.Count == 0)
            throw new DappfileException(location, "one of 'from', 'fromDimg' or 'fromDimgArtifact' is required");
        if (fromKeys.Count > 1)
            throw new DappfileException(doc.KeyLocation(fromKeys[1])!, $"'{fromKeys[0]}' and '{fromKeys[1]}' cannot be used together: give exactly one of from, fromDimg, fromDimgArtifact");
        var fromLocation = doc.Get(fromKeys[0])!.Location;

        string? from = doc.Get("from") is { } f ? ImageName(f, "from") : null;
        if (from is not null && (from.Length > DockerNames.MaxRepositoryLength + 200 || (!DockerNames.IsValidImageName(from) && !IsDigestReference(from))))
            throw new DappfileException(fromLocation, $"invalid image name in from: '{Shorten(from)}' (expected NAME[:TAG] or NAME@sha256:DIGEST, for example alpine:3.19)");
        // fromCacheVersion goes with from, fromDimg or fromDimgArtifact (dapp accepted all three): it changes the from stage's signature.

        return new ImageConfig
        {
            Name = null,
            Kind = kind,
            Location = location,
            From = from,
            FromCacheVersion = doc.Get("fromCacheVersion") is { } v ? OptionalString(v, "fromCacheVersion") : null,
            FromDimg = doc.Get("fromDimg") is { } fd ? String(fd, "fromDimg") : null,
            FromDimgArtifact = doc.Get("fromDimgArtifact") is { } fa ? String(fa, "fromDimgArtifact") : null,
            FromLocation = fromLocation,
            Shell = doc.Get("shell") is { } shell ? ParseShell(shell, kind) : ShellConfig.Empty,
            Ansible = doc.Get("ansible") is { } ansibleNode ? ParseAnsible(ansibleNode, kind) : null,
            Docker = doc.Get("docker") is { } docker ? ParseDocker(docker) : DockerConfig.Empty,
            Git = doc.Get("git") is { } git ? Sequence(git, "git").Select(g => ParseGit(g, kind)).ToList() : [],
            Mounts = doc.Get("mount") is { } mount ? Sequence(mount, "mount").Select(ParseMount).ToList() : [],
            Imports = doc.Get("import") is { } import ? Sequence(import, "import").Select(ParseImport).ToList() : [],
        };
    }

    private static bool IsDigestReference(string from)
    {
        var at = from.IndexOf('@');
        return at > 0 && DockerNames.IsValidImageName(from[..at]) && Registry.Model.Digest.TryParse(from[(at + 1)..], out _);
    }

    /// <summary>A value quoted in an error: long ones are cut, so a mistake never prints a page.</summary>
    internal static string Shorten(string value) => value.Length <= 80 ? value : $"{value[..80]}… ({value.Length} characters)";

    private static ShellConfig ParseShell(YNode node, ImageKind kind)
    {
        var (commands, cacheVersion, versions) = ParseInstructions(node, kind, "shell", (value, what) => StringList(value, what));
        var locations = new Dictionary<UserStage, IReadOnlyList<SourceLocation>>();
        foreach (var (key, value) in Mapping(node, "shell").Entries)
            if (UserStageNames.FromKey(key.Value) is { } stage)
                locations[stage] = value is YSequence seq ? seq.Items.Select(i => i.Location).ToList() : [value.Location];
        return new ShellConfig(commands, cacheVersion, versions) { CommandLocations = locations };
    }

    private static AnsibleConfig ParseAnsible(YNode node, ImageKind kind)
    {
        var (tasks, cacheVersion, versions) = ParseInstructions(node, kind, "ansible", (value, what) =>
            Sequence(value, what).Select(task => Mapping(task, $"each task of {what}") is { Entries.Count: > 0 } map
                ? new AnsibleTask(AnsibleYaml.Write(map), map.Location)
                : throw new DappfileException(task.Location, $"a task of {what} is empty")).ToList());
        return new AnsibleConfig(tasks, cacheVersion, versions);
    }

    /// <summary>The keys <c>shell</c> and <c>ansible</c> share: one list per user stage, cache versions per stage and for all.</summary>
    private static (Dictionary<UserStage, IReadOnlyList<T>> PerStage, string? CacheVersion, Dictionary<UserStage, string> StageCacheVersions)
        ParseInstructions<T>(YNode node, ImageKind kind, string section, Func<YNode, string, IReadOnlyList<T>> parseStage)
    {
        var map = Mapping(node, section);
        var stages = Enum.GetValues<UserStage>().Where(s => s != UserStage.BuildArtifact || kind == ImageKind.Artifact).ToList();
        var allowed = stages.Select(s => s.Key()).Concat(stages.Select(s => s.Key() + "CacheVersion")).Append("cacheVersion").ToList();
        foreach (var (key, _) in map.Entries)
            if (kind == ImageKind.Dimg && key.Value.StartsWith("buildArtifact", StringComparison.Ordinal))
                throw new DappfileException(key.Location, $"'{key.Value}' is only for artifacts");
        RejectUnknownKeys(map, section, allowed);

        var perStage = new Dictionary<UserStage, IReadOnlyList<T>>();
        var versions = new Dictionary<UserStage, string>();
        string? cacheVersion = null;
        foreach (var (key, value) in map.Entries)
        {
            if (key.Value == "cacheVersion") { cacheVersion = OptionalString(value, $"{section}.cacheVersion"); continue; }
            if (key.Value.EndsWith("CacheVersion", StringComparison.Ordinal))
            {
                var stage = UserStageNames.FromKey(key.Value[..^"CacheVersion".Length])!.Value;
                if (OptionalString(value, $"{section}.{key.Value}") is { } version) versions[stage] = version;
                continue;
            }
            perStage[UserStageNames.FromKey(key.Value)!.Value] = parseStage(value, $"{section}.{key.Value}");
        }
        return (perStage, cacheVersion, versions);
    }

    private static DockerConfig ParseDocker(YNode node)
    {
        var map = Mapping(node, "docker");
        RejectUnknownKeys(map, "docker", DockerKeys);
        return new DockerConfig(
            Volumes: map.Get("VOLUME") is { } vol ? StringList(vol, "docker.VOLUME") : [],
            Expose: map.Get("EXPOSE") is { } exp ? StringList(exp, "docker.EXPOSE") : [],
            Cmd: map.Get("CMD") is { } cmd ? ExecOrShellForm(cmd, "docker.CMD") : null,
            Entrypoint: map.Get("ENTRYPOINT") is { } ep ? ExecOrShellForm(ep, "docker.ENTRYPOINT") : null,
            Env: map.Get("ENV") is { } env ? EnvMap(env, "docker.ENV") : [],
            Labels: map.Get("LABEL") is { } label ? StringMap(label, "docker.LABEL") : [],
            Workdir: map.Get("WORKDIR") is { } wd ? String(wd, "docker.WORKDIR") : null,
            User: map.Get("USER") is { } user ? String(user, "docker.USER") : null,
            OnBuild: map.Get("ONBUILD") is { } ob ? StringList(ob, "docker.ONBUILD") : [])
        {
            Locations = map.Entries.DistinctBy(e => e.Key.Value).ToDictionary(e => e.Key.Value, e => e.Key.Location),
        };
    }

    /// <summary>A list is the exec form; a string is the shell form, as in a Dockerfile.</summary>
    private static IReadOnlyList<string> ExecOrShellForm(YNode node, string what) => node switch
    {
        YSequence seq => seq.Items.Select(i => String(i, $"each item of {what}")).ToList(),
        YScalar s when s.IsNull => [],
        YScalar s => ["/bin/sh", "-c", s.Value],
        _ => throw new DappfileException(node.Location, $"{what} must be a string or a list of strings"),
    };

    private static GitPathConfig ParseGit(YNode node, ImageKind kind)
    {
        var map = Mapping(node, "each git entry");
        RejectUnsupported(map);
        RejectUnknownKeys(map, "git", GitKeys);

        var url = map.Get("url") is { } u ? String(u, "git.url") : null;
        if (url is not null && !url.EndsWith(".git", StringComparison.Ordinal))
            throw new DappfileException(map.Get("url")!.Location, $"git.url must end with '.git', got '{url}'");
        var refs = new[] { "branch", "tag", "commit" }.Where(k => map.Get(k) is not null).ToList();
        if (refs.Count > 0 && url is null)
            throw new DappfileException(map.Get(refs[0])!.Location, $"git.{refs[0]} is only for remote repositories (with url)");
        if (refs.Count > 1)
            throw new DappfileException(map.Get(refs[1])!.Location, $"git.{refs[0]} and git.{refs[1]} cannot be used together");
        var to = map.Get("to") ?? throw new DappfileException(map.Location, "git.to is required");

        var dependencies = new Dictionary<UserStage, IReadOnlyList<string>>();
        if (map.Get("stageDependencies") is { } deps && deps is not YScalar { IsNull: true })
        {
            var depMap = Mapping(deps, "git.stageDependencies");
            var allowed = new[] { UserStage.Install, UserStage.BeforeSetup, UserStage.Setup }
                .Concat(kind == ImageKind.Artifact ? [UserStage.BuildArtifact] : []).Select(s => s.Key()).ToList();
            RejectUnknownKeys(depMap, "git.stageDependencies", allowed);
            foreach (var (key, value) in depMap.Entries)
                dependencies[UserStageNames.FromKey(key.Value)!.Value] = RelativeGlobs(value, $"git.stageDependencies.{key.Value}");
        }

        return new GitPathConfig(
            Url: url,
            Add: map.Get("add") is { } add ? AbsolutePath(add, "git.add") : "/",
            To: AbsolutePath(to, "git.to"),
            Owner: map.Get("owner") is { } o ? UserOrGroup(o, "git.owner") : null,
            Group: map.Get("group") is { } g ? UserOrGroup(g, "git.group") : null,
            IncludePaths: map.Get("includePaths") is { } inc ? RelativeGlobs(inc, "git.includePaths") : [],
            ExcludePaths: map.Get("excludePaths") is { } exc ? RelativeGlobs(exc, "git.excludePaths") : [],
            Branch: map.Get("branch") is { } b ? String(b, "git.branch") : null,
            Tag: map.Get("tag") is { } t ? String(t, "git.tag") : null,
            Commit: map.Get("commit") is { } c ? String(c, "git.commit") : null,
            StageDependencies: dependencies,
            Location: map.Location);
    }

    private static MountConfig ParseMount(YNode node)
    {
        var map = Mapping(node, "each mount");
        RejectUnknownKeys(map, "mount", MountKeys);
        var to = map.Get("to") ?? throw new DappfileException(map.Location, "mount.to is required");
        var from = map.Get("from");
        var fromPath = map.Get("fromPath");
        if (from is not null && fromPath is not null)
            throw new DappfileException(fromPath.Location, "mount.from and mount.fromPath cannot be used together");
        if (from is null && fromPath is null)
            throw new DappfileException(map.Location, "mount needs 'from: tmp_dir|build_dir' or 'fromPath: /host/path'");
        var target = BindPath(to, "mount.to");
        if (target.TrimEnd('/').Length == 0)
            throw new DappfileException(to.Location, "mount.to must not be / (the mount would hide the whole image)");
        if (fromPath is not null)
            return new MountConfig(target, MountSource.HostPath, BindPath(fromPath, "mount.fromPath"), map.Location);
        var source = String(from!, "mount.from") switch
        {
            "tmp_dir" => MountSource.TmpDir,
            "build_dir" => MountSource.BuildDir,
            var other => throw new DappfileException(from!.Location, $"mount.from must be tmp_dir or build_dir, got '{other}'"),
        };
        return new MountConfig(target, source, null, map.Location);
    }

    private static ImportConfig ParseImport(YNode node)
    {
        var map = Mapping(node, "each import");
        RejectUnknownKeys(map, "import", ImportKeys);
        var artifact = map.Get("artifact") ?? throw new DappfileException(map.Location, "import.artifact is required");
        var add = map.Get("add") ?? throw new DappfileException(map.Location, "import.add is required");
        var before = map.Get("before");
        var after = map.Get("after");
        if (before is not null && after is not null)
            throw new DappfileException(after.Location, "import takes one of 'before' and 'after', not both");
        if (before is null && after is null)
            throw new DappfileException(map.Location, "import needs 'before: install|setup' or 'after: install|setup'");
        var pointNode = before ?? after!;
        var stage = String(pointNode, before is not null ? "import.before" : "import.after");
        var point = (before is not null, stage) switch
        {
            (true, "install") => ImportPoint.BeforeInstall,
            (false, "install") => ImportPoint.AfterInstall,
            (true, "setup") => ImportPoint.BeforeSetup,
            (false, "setup") => ImportPoint.AfterSetup,
            _ => throw new DappfileException(pointNode.Location, $"import.{(before is not null ? "before" : "after")} must be install or setup, got '{stage}'"),
        };
        var addPath = AbsolutePath(add, "import.add");
        return new ImportConfig(
            Artifact: String(artifact, "import.artifact"),
            Add: addPath,
            To: map.Get("to") is { } to ? AbsolutePath(to, "import.to") : addPath,
            IncludePaths: map.Get("includePaths") is { } inc ? RelativeGlobs(inc, "import.includePaths") : [],
            ExcludePaths: map.Get("excludePaths") is { } exc ? RelativeGlobs(exc, "import.excludePaths") : [],
            Owner: map.Get("owner") is { } o ? UserOrGroup(o, "import.owner") : null,
            Group: map.Get("group") is { } g ? UserOrGroup(g, "import.group") : null,
            Point: point,
            Location: artifact.Location);
    }

    private static void Validate(Dappfile dappfile, string file)
    {
        if (dappfile.Dimgs.Count == 0 && dappfile.Artifacts.Count == 0)
            throw new DappfileException(new SourceLocation(file, 1, 1), "no dimg defined");
        if (dappfile.Dimgs.Count > 1 && dappfile.Dimgs.FirstOrDefault(d => d.Name is null) is { } nameless)
            throw new DappfileException(nameless.Location, "a nameless dimg is allowed only when the dappfile has a single dimg");
        EnsureUnique(dappfile.Dimgs, "dimg");
        EnsureUnique(dappfile.Artifacts, "artifact");
        foreach (var artifact in dappfile.Artifacts)
            if (dappfile.Dimgs.FirstOrDefault(d => d.Name == artifact.Name) is { } dimg)
                throw new DappfileException(artifact.Location, $"artifact '{artifact.Name}' has the name of the dimg at {dimg.Location}: give them different names");

        foreach (var image in dappfile.Dimgs.Concat(dappfile.Artifacts))
        {
            if (image.FromDimg is { } fd && dappfile.FindDimg(fd) is null)
                throw new DappfileException(image.FromLocation, $"fromDimg: no dimg '{fd}' in the dappfile");
            if (image.FromDimgArtifact is { } fa && dappfile.FindArtifact(fa) is null)
                throw new DappfileException(image.FromLocation, $"fromDimgArtifact: no artifact '{fa}' in the dappfile");
            foreach (var import in image.Imports)
                if (dappfile.FindArtifact(import.Artifact) is null)
                    throw new DappfileException(import.Location, $"import: no artifact '{import.Artifact}' in the dappfile");
        }
        EnsureAcyclic(dappfile);
        foreach (var image in dappfile.Dimgs.Concat(dappfile.Artifacts)) EnsureDistinctDestinations(image);
        if (dappfile.Dimgs.Count == 0)
            throw new DappfileException(dappfile.Artifacts[0].Location, "the dappfile has only artifacts: an artifact is built for the dimgs that import it; add a dimg");
    }

    /// <summary>Two mounts on one path, or two git paths or imports written to one path, would silently hide each other.</summary>
    private static void EnsureDistinctDestinations(ImageConfig image)
    {
        var mounts = new Dictionary<string, MountConfig>();
        foreach (var mount in image.Mounts)
            if (!mounts.TryAdd(Normalize(mount.To), mount))
                throw new DappfileException(mount.Location, $"mount.to {mount.To} is given twice in {image.DisplayName} (first at {mounts[Normalize(mount.To)].Location})");
        var destinations = new Dictionary<string, (string What, SourceLocation Location)>();
        var entries = image.Git.Select(g => (To: g.To, What: $"git {(g.IsRemote ? g.Url : "add " + g.Add)}", g.Location))
            .Concat(image.Imports.Select(i => (To: i.To, What: $"import of {i.Artifact}", i.Location)));
        foreach (var (to, what, location) in entries)
        {
            if (destinations.TryGetValue(Normalize(to), out var first))
                throw new DappfileException(location, $"{what} writes to {to}, where {first.What} (at {first.Location}) writes too: give them different 'to' paths");
            destinations[Normalize(to)] = (what, location);
        }
    }

    private static string Normalize(string path) => "/" + path.Trim('/');

    private static void EnsureUnique(IReadOnlyList<ImageConfig> images, string what)
    {
        var seen = new HashSet<string?>();
        foreach (var image in images)
            if (!seen.Add(image.Name))
                throw new DappfileException(image.Location, $"duplicate {what} name '{image.Name}'");
    }

    /// <summary>How deep fromDimg, fromDimgArtifact and imports may chain: the conveyors of deeper chains are made by recursion.</summary>
    public const int MaxDependencyDepth = 100;

    /// <summary>No image depends on itself, and no chain of dependencies is deeper than <see cref="MaxDependencyDepth"/> (a walk without recursion, each image once).</summary>
    private static void EnsureAcyclic(Dappfile dappfile)
    {
        var depth = new Dictionary<ImageConfig, int>(ReferenceEqualityComparer.Instance);
        foreach (var root in dappfile.Dimgs.Concat(dappfile.Artifacts))
        {
            if (depth.ContainsKey(root)) continue;
            var path = new List<ImageConfig> { root };
            var pending = new Stack<IEnumerator<ImageConfig>>();
            pending.Push(Dependencies(dappfile, root).GetEnumerator());
            while (pending.Count > 0)
            {
                var image = path[^1];
                if (!pending.Peek().MoveNext())
                {
                    pending.Pop();
                    path.RemoveAt(path.Count - 1);
                    depth[image] = 1 + Dependencies(dappfile, image).Select(d => depth.GetValueOrDefault(d)).DefaultIfEmpty(0).Max();
                    if (depth[image] > MaxDependencyDepth)
                        throw new DappfileException(image.Location, $"{image.DisplayName} is built on a chain of more than {MaxDependencyDepth} dimgs and artifacts (fromDimg, fromDimgArtifact, import)");
                    continue;
                }
                var dependency = pending.Peek().Current;
                if (path.Contains(dependency))
                    throw new DappfileException(dependency.Location,
                        $"circular dependency: {string.Join(" -> ", path.SkipWhile(i => i != dependency).Append(dependency).Select(i => i.DisplayName))}");
                if (depth.ContainsKey(dependency)) continue;
                path.Add(dependency);
                pending.Push(Dependencies(dappfile, dependency).GetEnumerator());
            }
        }
    }

    /// <summary>The images this one is built from or imports from.</summary>
    public static IEnumerable<ImageConfig> Dependencies(Dappfile dappfile, ImageConfig image)
    {
        if (image.FromDimg is { } fd) yield return dappfile.FindDimg(fd)!;
        if (image.FromDimgArtifact is { } fa) yield return dappfile.FindArtifact(fa)!;
        foreach (var import in image.Imports) yield return dappfile.FindArtifact(import.Artifact)!;
    }
}
