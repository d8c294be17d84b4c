# The trust check of pipeline specs (pylme4/pipeline/trust.py holds the
# allow-list and passes it in): R code from a spec is parsed, never
# evaluated, and every function its parse tree calls must be on the list.
#
# The tree is walked with an explicit stack, not by recursion: a formula with
# thousands of terms is a left-nested tree thousands of calls deep, which a
# recursive walk would follow on the C stack.

# What is wrong with `text` as spec code, or "" when nothing is:
#   kind = "parse"     it is not R (message: R's parser's words)
#   kind = "shape"     not exactly one expression, or it holds a comment
#   kind = "call"      it calls a function not on the list (what: how it is written)
#   kind = "computed"  it calls a function computed by a call (what: that call's function)
# `plain`: functions allowed by name; `ns_pkg`, `ns_fun`: the allowed pkg::fun
# pairs; `check_calls = FALSE` (--trust) skips only the allow-list.
pylme4_code_check <- function(text, plain, ns_pkg, ns_fun, check_calls = TRUE) {
  result <- function(kind = "", what = "") list(kind = kind, what = what)
  parsed <- tryCatch(parse(text = text, keep.source = TRUE),
                     error = function(e) e)
  if (inherits(parsed, "error"))
    return(result("parse", conditionMessage(parsed)))
  if (length(parsed) != 1L)
    return(result("shape", sprintf("it holds %d expressions, not one", length(parsed))))
  # A comment would swallow the rest of the line it is pasted into (the
  # exported R script writes the formula as code).
  tokens <- utils::getParseData(parsed)$token
  if ("COMMENT" %in% tokens)
    return(result("shape", "it holds a comment ('#')"))
  if (!check_calls || !is.call(parsed[[1L]])) return(result())
  allowed_ns <- paste(ns_pkg, ns_fun, sep = "::")
  # The stack is a linked list, list(top, rest): pushing with list() is O(1),
  # while `stack[[i]] <- call` makes R search the call for a cycle (a walk
  # as deep as the call, once per push: quadratic, and recursive in C).
  stack <- list(parsed[[1L]], NULL)
  while (!is.null(stack)) {
    x <- stack[[1L]]
    stack <- stack[[2L]]
    head <- x[[1L]]
    if (is.name(head)) {
      name <- as.character(head)
      if (!(name %in% plain)) return(result("call", name))
    } else if (is.call(head) && length(head) == 3L && is.name(head[[1L]]) &&
               as.character(head[[1L]]) %in% c("::", ":::")) {
      op <- as.character(head[[1L]])
      pkg <- head[[2L]]
      fun <- head[[3L]]
      written <- paste0(as.character(pkg)[1L], op, as.character(fun)[1L])
      if (op == ":::" || !is.name(pkg) && !is.character(pkg) ||
          !is.name(fun) && !is.character(fun) ||
          !(paste(as.character(pkg), as.character(fun), sep = "::") %in% allowed_ns))
        return(result("call", written))
    } else {
      # A function that is computed ((function(x) ...)(1), get("f")(x), f(x)(y)):
      # what it calls cannot be known without running it.  Name the call that
      # computes it when that one is refused anyway (get, function, ...).
      inner <- if (is.call(head) && is.name(head[[1L]])) as.character(head[[1L]]) else ""
      if (nzchar(inner) && !(inner %in% plain)) return(result("call", inner))
      return(result("computed", inner))
    }
    # Arguments that are calls, pushed last first so that the leftmost call
    # is reported first.  x[[i]] is not bound to a name: an empty argument
    # (x[, 1]) would be "missing" when used.
    n <- length(x)
    if (n >= 2L) for (i in n:2L) if (is.call(x[[i]])) stack <- list(x[[i]], stack)
  }
  result()
}
