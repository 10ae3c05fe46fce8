using System.Text;

namespace MeshActors.Actors;

/// <summary>The address of an actor in its system's hierarchy, such as <c>meshactors://node/user/peers/a</c>.</summary>
/// <remarks>
/// Paths compare by system name and elements; the <see cref="Uid"/> of an incarnation is ignored, as in Akka.NET
/// (actor references compare by path and uid).
/// </remarks>
public sealed class ActorPath : IEquatable<ActorPath>
{
    /// <summary>The URI scheme of printed paths.</summary>
    public const string Scheme = "meshactors";

    private readonly string _systemName;

    internal ActorPath(string systemName)
    {
        _systemName = systemName;
        Name = "";
    }

    internal ActorPath(ActorPath parent, string name, int uid)
    {
        _systemName = parent._systemName;
        Parent = parent;
        Name = name;
        Uid = uid;
        Depth = parent.Depth + 1;
    }

    /// <summary>The last element ("" for the root).</summary>
    public string Name { get; }

    /// <summary>The parent path, or null for the root.</summary>
    public ActorPath? Parent { get; }

    /// <summary>Identifies one incarnation of the actor at this path (0 when unknown).</summary>
    public int Uid { get; }

    /// <summary>The name of the actor system the path belongs to.</summary>
    public string SystemName => _systemName;

    /// <summary>The number of elements below the root.</summary>
    public int Depth { get; }

    /// <summary>The names from the root down to this path, e.g. ["user", "a"].</summary>
    public IReadOnlyList<string> Elements
    {
        get
        {
            var elements = new string[Depth];
            for (var p = this; p.Parent is not null; p = p.Parent)
            {
                elements[p.Depth - 1] = p.Name;
            }

            return elements;
        }
    }

    /// <summary>The path of a child named <paramref name="name"/> (uid unknown).</summary>
    public ActorPath Child(string name) => new(this, name, 0);

    /// <summary>The path of a child named <paramref name="name"/> (uid unknown).</summary>
    public static ActorPath operator /(ActorPath parent, string name) => parent.Child(name);

    /// <summary>The same path naming another incarnation.</summary>
    public ActorPath WithUid(int uid) => Parent is null || uid == Uid ? this : new ActorPath(Parent, Name, uid);

    /// <summary>The path without scheme and system, e.g. <c>/user/a</c>.</summary>
    public string ToStringWithoutAddress()
    {
        if (Parent is null)
        {
            return "/";
        }

        var builder = new StringBuilder();
        Append(builder, this);
        return builder.ToString();

        static void Append(StringBuilder builder, ActorPath path)
        {
            if (path.Parent is null)
            {
                return;
            }

            Append(builder, path.Parent);
            builder.Append('/').Append(path.Name);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Scheme}://{_systemName}{ToStringWithoutAddress()}";

    /// <inheritdoc />
    public bool Equals(ActorPath? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other.Depth != Depth)
        {
            return false;
        }

        ActorPath? a = this, b = other;
        for (; a is not null && b is not null; a = a.Parent, b = b.Parent)
        {
            if (ReferenceEquals(a, b))
            {
                return true;
            }

            if (!string.Equals(a.Name, b.Name, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return string.Equals(_systemName, other._systemName, StringComparison.Ordinal);
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ActorPath other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(_systemName, StringComparer.Ordinal);
        for (var p = this; p.Parent is not null; p = p.Parent)
        {
            hash.Add(p.Name, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }
}
