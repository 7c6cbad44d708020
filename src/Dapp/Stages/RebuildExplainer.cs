using Dapp.Git;
using Dapp.Reporting;

namespace Dapp.Stages;

/// <summary>
/// Tells why a stage is built: compares the inputs of its signature now with those the same stage of the dimg's
/// earlier build recorded (<see cref="StageInputs"/>), and names the first kind that changed
/// (<see cref="RebuildReason.Precedence"/>), else the stage below it.
/// </summary>
public static class RebuildExplainer
{
    /// <summary>At most this many changed files are named; the rest are counted.</summary>
    public const int MaxPaths = 20;

    private const int MaxShown = 100;

    /// <param name="whyChanged">Why another conveyor's last stage changed (an imported artifact, a fromDimg base), in a few words; null when it did not.</param>
    public static RebuildReason Explain(Conveyor conveyor, int index, EarlierChain? earlier, Func<Conveyor, string?>? whyChanged = null)
    {
        var stage = conveyor.Stages[index];
        if (earlier is null) return new(RebuildReason.FirstBuild, [$"no earlier build of {conveyor.Image.DisplayName} is known"]);
        var before = earlier.Find(stage.Name);
        if (before is null && !earlier.Reaches(stage.Name, conveyor.Image.IsArtifact ? StageNames.ArtifactOrder : StageNames.DimgOrder))
            return new(RebuildReason.FirstBuild, [$"the earlier build ({earlier.Source}) is known up to {earlier.Stages.LastOrDefault()?.Name ?? "nothing"} only"]);
        if (before?.Signature == stage.Signature)
            return Vanished(conveyor, before) ?? new(RebuildReason.Missing, [$"built before ({earlier.Source}), but that image is no longer there"]);
        var recorded = before?.Inputs;
        if (before is not null && recorded is null)
            return new(RebuildReason.Unknown, [$"the earlier build's {before.Name} records no inputs (an older dapp built it)"]);
        var changes = Changes(recorded?.Inputs ?? [], stage.Inputs.Select(RecordedInput.Of).ToList());
        foreach (var kind in RebuildReason.Precedence)
        {
            var ofKind = changes.Where(c => KindOf(stage.Stage, c.Key) == kind).ToList();
            if (ofKind.Count == 0) continue;
            var details = ofKind.SelectMany(c => Details(conveyor, stage, before, c, whyChanged ?? (_ => null))).ToList();
            return new(kind, details.Count > 0 ? details : [$"{string.Join(", ", ofKind.Select(c => c.Key).Distinct())} changed"]);
        }
        var below = index > 0 ? conveyor.Stages[index - 1].Name.DappName() : "the base";
        return new(RebuildReason.Parent, [$"{below} changed"]);
    }

    /// <summary>One level of why a conveyor's last stage changed (an imported artifact, a fromDimg base): its first stage that differs from its earlier build, and why.</summary>
    public static string? WhyChanged(Conveyor conveyor, EarlierChain? chain)
    {
        var stages = conveyor.Stages;
        for (int i = 0; i < stages.Count; i++)
            if (chain?.Find(stages[i].Name)?.Signature != stages[i].Signature)
                return $"its {stages[i].Name.DappName()} changed ({Explain(conveyor, i, chain)})";
        return null;
    }

    /// <summary>One key's occurrences, before and now, when they differ.</summary>
    private sealed record Change(string Key, IReadOnlyList<RecordedInput> Before, IReadOnlyList<RecordedInput> Now);

    private static List<Change> Changes(IReadOnlyList<RecordedInput> before, IReadOnlyList<RecordedInput> now)
    {
        var changes = new List<Change>();
        foreach (var key in now.Select(i => i.Key).Concat(before.Select(i => i.Key)).Distinct())
        {
            var was = before.Where(i => i.Key == key).ToList();
            var @is = now.Where(i => i.Key == key).ToList();
            // A stage new in the chain (nothing recorded) adds its directives, not the ones it leaves empty.
            if ((was.Count == 0 && @is.All(IsEmpty)) || (@is.Count == 0 && was.All(IsEmpty))) continue;
            if (was.Count != @is.Count || was.Zip(@is).Any(p => !p.First.SameAs(p.Second))) changes.Add(new Change(key, was, @is));
        }
        return changes;
    }

    private static bool IsEmpty(RecordedInput input) => input.Values is { } values && values.All(v => v is null);

    private static string KindOf(Stage stage, string key) => key switch
    {
        "from" or "fromDimg" or "fromDimgArtifact" => RebuildReason.BaseImage,
        "fromCacheVersion" or "cacheVersion" or "stageCacheVersion" => RebuildReason.CacheVersion,
        "mount" => RebuildReason.Mounts,
        "artifact" or "import" => RebuildReason.Imports,
        "includePaths" or "excludePaths" => stage is ArtifactImportStage ? RebuildReason.Imports : RebuildReason.Git,
        "commands" or "tasks" or "VOLUME" or "EXPOSE" or "CMD" or "ENTRYPOINT" or "ENV" or "LABEL" or "WORKDIR" or "USER" or "ONBUILD" => RebuildReason.Instructions,
        _ => RebuildReason.Git,
    };

    private static IEnumerable<string> Details(Conveyor conveyor, ConveyorStage stage, EarlierStage? before, Change change, Func<Conveyor, string?> whyChanged)
    {
        switch (change.Key)
        {
            case "commands" or "tasks":
                return Pairs(change).SelectMany(p => ListDiff(p.Before, p.Now));
            case "fromDimg" or "fromDimgArtifact" when conveyor.From.BaseConveyor is { } baseConveyor:
                return [$"{change.Key} {baseConveyor.Image.Name} changed" + (whyChanged(baseConveyor) is { } why ? $": {why}" : "")];
            case "artifact":
                return ChangedArtifacts(stage, change, whyChanged);
            case "stageDependencies" or "commit" or "patchSizeMiB":
                return GitFiles(conveyor, stage, before, change);
            case "resetCommits":
                return [$"a commit asks for a new archive ([dapp reset]): {string.Join(", ", change.Now.SelectMany(i => i.Values ?? []).Except(change.Before.SelectMany(i => i.Values ?? [])).Select(c => c?[..Math.Min(12, c.Length)]))}"];
            default:
                return Pairs(change).Select(p => $"{PlaceOf(p.Now ?? p.Before)}{change.Key} {p.Before?.Display ?? "(none)"} -> {p.Now?.Display ?? "(none)"}");
        }
    }

    private static IEnumerable<(RecordedInput? Before, RecordedInput? Now)> Pairs(Change change)
    {
        for (int i = 0; i < Math.Max(change.Before.Count, change.Now.Count); i++)
        {
            var was = i < change.Before.Count ? change.Before[i] : null;
            var @is = i < change.Now.Count ? change.Now[i] : null;
            if (was is null || @is is null || !was.SameAs(@is)) yield return (was, @is);
        }
    }

    private static string PlaceOf(RecordedInput? input) => input?.Places.FirstOrDefault() is { } place ? place + ": " : "";

    /// <summary>The values added, removed or changed between two lists (a longest common subsequence kept), each with its dappfile line.</summary>
    private static IEnumerable<string> ListDiff(RecordedInput? before, RecordedInput? now)
    {
        if (before?.IsHashed == true || now?.IsHashed == true)
        {
            yield return $"{PlaceOf(now ?? before)}{(now ?? before)!.Key} {before?.Display ?? "(none)"} -> {now?.Display ?? "(none)"}";
            yield break;
        }
        var was = before?.Values ?? [];
        var @is = now?.Values ?? [];
        var lengths = new int[was.Count + 1, @is.Count + 1];
        for (int i = was.Count - 1; i >= 0; i--)
            for (int j = @is.Count - 1; j >= 0; j--)
                lengths[i, j] = was[i] == @is[j] ? lengths[i + 1, j + 1] + 1 : Math.Max(lengths[i + 1, j], lengths[i, j + 1]);
        var removed = new List<int>();
        var added = new List<int>();
        var lines = new List<string>();
        void Flush()
        {
            for (int k = 0; k < Math.Max(removed.Count, added.Count); k++)
                lines.Add(k < removed.Count && k < added.Count ? $"{Place(now, added[k])}{Shown(was[removed[k]])} -> {Shown(@is[added[k]])}"
                    : k < added.Count ? $"{Place(now, added[k])}added {Shown(@is[added[k]])}"
                    : $"removed {Shown(was[removed[k]])}" + (Place(before, removed[k]) is { Length: > 0 } at ? $" (was {at.TrimEnd(' ', ':')})" : ""));
            removed.Clear();
            added.Clear();
        }
        int x = 0, y = 0;
        while (x < was.Count || y < @is.Count)
        {
            if (x < was.Count && y < @is.Count && was[x] == @is[y])
            {
                Flush();
                x++;
                y++;
            }
            else if (y < @is.Count && (x == was.Count || lengths[x, y + 1] >= lengths[x + 1, y])) added.Add(y++);
            else removed.Add(x++);
        }
        Flush();
        foreach (var line in lines) yield return line;
    }

    private static string Place(RecordedInput? input, int index) =>
        input is null || input.Places.Count == 0 ? "" : (input.Places.Count == input.Count ? input.Places[index] : input.Places[0]) + ": ";

    private static string Shown(string? value)
    {
        var text = (value ?? "").ReplaceLineEndings(" ").Trim();
        return RecordedInput.Quote(text.Length <= MaxShown ? text : text[..MaxShown] + "…");
    }

    private static IEnumerable<string> ChangedArtifacts(ConveyorStage stage, Change change, Func<Conveyor, string?> whyChanged)
    {
        var imports = stage.Stage.Work.Imports;
        var before = change.Before.Select(i => i.Values?.FirstOrDefault()).ToHashSet();
        foreach (var artifact in imports.Select(i => i.Artifact).Distinct())
        {
            if (before.Contains(artifact.LastSignature)) continue;
            yield return $"artifact {artifact.Image.Name} changed" + (whyChanged(artifact) is { } why ? $": {why}" : "");
        }
    }

    /// <summary>The files of a git path that changed since the commit the patch starts from, as many as <see cref="MaxPaths"/>, then a count.</summary>
    private static IEnumerable<string> GitFiles(Conveyor conveyor, ConveyorStage stage, EarlierStage? before, Change change)
    {
        foreach (var (was, now) in Pairs(change))
        {
            var id = (now ?? was)?.Values?.FirstOrDefault();
            if (conveyor.GitPaths.FirstOrDefault(p => p.Id == id) is not { } path) continue;
            var from = stage.Stage switch
            {
                GitLatestPatchStage latest => latest.Recorded.GetValueOrDefault(path),
                GitPostSetupPatchStage postSetup => postSetup.Recorded.GetValueOrDefault(path),
                _ => before?.Labels.GetValueOrDefault(path.CommitLabel),
            };
            var where = $"git path to {path.Config.To}";
            if (from is null || !path.HasCommit(from))
            {
                yield return stage.Stage is GitPatchStage patch
                    ? $"{where}: the files its stageDependencies ({string.Join(", ", patch.Globs(path))}) match changed"
                    : $"{where}: at commit {path.Current[..12]}";
                continue;
            }
            var files = stage.Stage is GitPatchStage dependencies ? path.ChangedPaths(from, dependencies.Globs(path)) : path.ChangedPaths(from);
            if (files.Count == 0)
            {
                yield return $"{where}: commit {from[..12]} -> {path.Current[..12]}, no file of it changed";
                continue;
            }
            foreach (var file in files.Take(MaxPaths)) yield return file;
            if (files.Count > MaxPaths) yield return $"… and {files.Count - MaxPaths} more file(s) of {where}";
        }
    }

    /// <summary>A stage whose image records a commit that no longer exists is built again (see ConveyorBuilder).</summary>
    private static RebuildReason? Vanished(Conveyor conveyor, EarlierStage before)
    {
        foreach (var path in conveyor.GitPaths)
            if (path.VanishedCommit(before.Labels) is { } reason)
                return new RebuildReason(RebuildReason.Git, [$"git path to {path.Config.To}: the stage {reason}"]);
        return null;
    }
}
