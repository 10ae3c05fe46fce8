namespace MeshActors.Actors.Dispatch;

/// <summary>
/// A message of the kernel to an actor cell (lifecycle, supervision, DeathWatch). System messages bypass the user
/// queue and are processed before user messages; each instance is posted once, since it links itself into the
/// mailbox's lock-free list through <see cref="Next"/>.
/// </summary>
internal abstract class SystemMessage
{
    internal SystemMessage? Next;
}
