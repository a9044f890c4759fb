/// The C sources of `autoglm plugins new`, one small working example per kind (in
/// `ScaffoldSources+<Kind>.swift`). `@NAME@` stands for the component's name; it appears only
/// in strings and comments, so no name can clash with an identifier of the headers. Each
/// builds warning-free as C99 with -Wall -Wextra -pedantic and passes `autoglm plugins validate`.
enum ScaffoldSources {}
