// Scripts run: the menu collapses behind its toggle on small screens (without them it stays open).
document.documentElement.classList.remove("no-js");
