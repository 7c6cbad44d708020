namespace Dapp.Reporting;

public enum RemovalAction
{
    Delete,
    WouldDelete,
    Remove,
    WouldRemove,
    Keep,
}

/// <summary>
/// What a cleanup or flush command did, or would do (<c>--dry-run</c>), with one thing: a tag in a registry, a local
/// image, a container. <paramref name="Kind"/> names what it is when its name does not say it (a dangling image, a
/// leftover container); <paramref name="Reason"/> says why.
/// </summary>
public sealed record RemovalEvent(RemovalAction Action, string Name, string? Reason = null, string? Kind = null)
{
    public static RemovalAction Deleting(bool dryRun) => dryRun ? RemovalAction.WouldDelete : RemovalAction.Delete;

    public static RemovalAction Removing(bool dryRun) => dryRun ? RemovalAction.WouldRemove : RemovalAction.Remove;

    public string Verb => Action switch
    {
        RemovalAction.Delete => "delete",
        RemovalAction.WouldDelete => "would delete",
        RemovalAction.Remove => "remove",
        RemovalAction.WouldRemove => "would remove",
        _ => "keep",
    };

    /// <summary>The line a person reads: <c>delete REPO:tag: why</c>.</summary>
    public override string ToString() => $"{Verb} {(Kind is null ? "" : Kind + " ")}{Name}{(Reason is null ? "" : ": " + Reason)}";
}

/// <summary>
/// The totals of a stages transfer: how many stages were (or, in a dry run, would be) pulled or pushed, the bytes
/// moved, where from or to, and how long it took.
/// </summary>
public sealed record TransferSummary(string Direction, int Stages, long Bytes, string Location, TimeSpan Elapsed, bool DryRun = false)
{
    public const string Pull = "pull";
    public const string Push = "push";

    public override string ToString() => DryRun
        ? $"would {Direction} {Stages} stage(s) {(Direction == Pull ? "from" : "to")} {Location}"
        : $"{Direction}ed {Stages} stage(s), {TransferTotals.Format(Bytes)}, {(Direction == Pull ? "from" : "to")} {Location} in {Elapsed.TotalSeconds:0.00} s";
}
